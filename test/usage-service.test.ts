import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Org } from '../src/core/types.js';
import { validateBatch } from '../src/ingest/validate-batch.js';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';
import { closeMonth } from '../src/usage/statements.js';
import { getUsage, membersUsage, memberUsagePages, projectsUsage } from '../src/usage/usage-service.js';
import { makeOrg, tieredPlan } from './support/fixtures.js';

const NOW = Date.parse('2026-10-05T12:00:00Z');

const org = (over: Partial<Org> = {}): Org =>
  makeOrg({
    id: 'app',
    name: 'App Co',
    timezone: 'America/New_York',
    counting: { presence: 'activity', aggregation: 'average' },
    plan: tieredPlan(50),
    ...over,
  });

async function ingest(store: Store, o: Org, events: unknown[]) {
  const v = validateBatch(events, NOW);
  if (!v.ok) throw new Error(JSON.stringify(v.issues));
  return store.ingest(o, v.events, NOW);
}

/** n members active on each day of a date range, at local noon. */
function dailyActivity(firstDay: number, lastDay: number, n: number, prefix = 'u') {
  const events = [];
  for (let d = firstDay; d <= lastDay; d++) {
    for (let i = 0; i < n; i++) {
      const day = String(d).padStart(2, '0');
      events.push({
        id: `${prefix}-${d}-${i}`,
        member: `m${i}`,
        source: 'app',
        occurredAt: `2026-09-${day}T12:00:00-04:00`,
      });
    }
  }
  return events;
}

describe('usage service on SQLite', () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'seatmeter-usage-'));
    store = openStore(`sqlite:${join(dir, 'u.db')}`);
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('bills the worked example: 10x40, 10x80, 10x60 averages to 60, charged at the 100 tier on 50', async () => {
    const o = await store.createOrg(org(), NOW);
    await ingest(store, o, dailyActivity(1, 10, 40));
    await ingest(store, o, dailyActivity(11, 20, 80));
    await ingest(store, o, dailyActivity(21, 30, 60));
    const u = await getUsage(store, o, '2026-09', NOW);
    expect(u.days).toHaveLength(30);
    expect(u.days[0]).toEqual({ date: '2026-09-01', count: 40 });
    expect(u.days[15]).toEqual({ date: '2026-09-16', count: 80 });
    expect(u.billable).toEqual({ value: 60, numerator: 1800, denominator: 30 });
    expect(u.current).toBeNull();
    expect(u.projected).toEqual(u.billable);
    expect(u.allowance).toBe(50);
    expect(u.state).toBe('over');
    expect(u.charge).toEqual({
      currency: 'USD',
      amount: 35_000,
      licenses: null,
      tierUpTo: 100,
      overage: null,
    });
    expect(u.activeAndInvited).toBe(80);
  });

  it('reports a month in progress with current, toDate and projected', async () => {
    const o = await store.createOrg(org({ counting: { presence: 'activity', aggregation: 'peak' } }), NOW);
    const events = [];
    for (let d = 1; d <= 5; d++) {
      for (let i = 0; i < d * 2; i++) {
        events.push({
          id: `o${d}-${i}`,
          member: `m${i}`,
          source: 'app',
          occurredAt: `2026-10-0${d}T07:00:00-04:00`,
        });
      }
    }
    await ingest(store, o, events);
    const u = await getUsage(store, o, '2026-10', NOW);
    expect(u.current).toBe(10);
    expect(u.toDate.numerator).toBe(10);
    expect(u.projected.numerator).toBe(10);
    expect(u.state).toBe('ok');
  });

  it('lists members with reasons, sources and filters, and projects with a total', async () => {
    const o = await store.createOrg(org({ counting: { presence: 'activity', aggregation: 'peak' } }), NOW);
    await store.putMember(
      'app',
      { id: 'ann', email: 'ann@app.example', projects: ['web', 'ios'], teams: ['red'] },
      NOW,
    );
    await store.putMember('app', { id: 'bob', projects: ['web'], teams: ['blue'] }, NOW);
    await store.putMember('app', { id: 'viewer', projects: ['web'] }, NOW);
    await ingest(store, o, [
      { id: '1', member: 'ann', source: 'calls', occurredAt: '2026-09-02T10:00:00-04:00' },
      { id: '2', member: 'ann', source: 'calls', occurredAt: '2026-09-02T11:00:00-04:00' },
      { id: '3', member: 'ann', source: 'deals', occurredAt: '2026-09-09T11:00:00-04:00' },
      { id: '4', member: 'bob', source: 'calls', occurredAt: '2026-09-03T10:00:00-04:00' },
      { id: '5', source: 'marketing', occurredAt: '2026-09-03T10:00:00-04:00' },
    ]);
    await store.appendStatus('app', 'bob', 'deactivated', NOW, NOW);

    const listed = await membersUsage(store, o, '2026-09', NOW);
    expect(listed.totals).toEqual({ members: 3, billable: 2 });
    const ann = listed.members.find((m) => m.id === 'ann');
    expect(ann).toMatchObject({
      billable: true,
      reason: 'activity',
      daysCounted: 2,
      firstDay: '2026-09-02',
      lastDay: '2026-09-09',
      sources: { calls: 2, deals: 1 },
    });
    expect(listed.members.find((m) => m.id === 'bob')).toMatchObject({
      billable: false,
      reason: 'deactivated',
      daysCounted: 1,
    });
    expect(listed.members.find((m) => m.id === 'marketing')).toMatchObject({
      kind: 'shared',
      billable: true,
    });

    const all = await membersUsage(store, o, '2026-09', NOW, { all: true });
    expect(all.members.find((m) => m.id === 'viewer')).toMatchObject({
      billable: false,
      reason: 'no_activity',
      daysCounted: 0,
    });
    expect((await membersUsage(store, o, '2026-09', NOW, { team: 'red' })).members.map((m) => m.id)).toEqual([
      'ann',
    ]);
    expect(
      (await membersUsage(store, o, '2026-09', NOW, { source: 'deals' })).members.map((m) => m.id),
    ).toEqual(['ann']);
    expect(
      (await membersUsage(store, o, '2026-09', NOW, { project: 'web', all: true })).members.map((m) => m.id),
    ).toEqual(['ann', 'bob', 'viewer']);

    const projects = await projectsUsage(store, o, '2026-09', NOW);
    expect(projects.projects).toEqual([
      { id: 'ios', name: 'ios', members: 1, billable: 1 },
      { id: 'web', name: 'web', members: 3, billable: 1 },
    ]);
    expect(projects.total).toEqual({ members: 4, billable: 2 });
  });

  it('lists a closed month as its statement saw it, whatever statuses are recorded after', async () => {
    const o = await store.createOrg(org({ counting: { presence: 'activity', aggregation: 'peak' } }), NOW);
    await store.putMember('app', { id: 'ann', projects: ['web'] }, NOW);
    await store.putMember('app', { id: 'bob', projects: ['web'] }, NOW);
    await ingest(store, o, [
      { id: '1', member: 'ann', source: 'calls', occurredAt: '2026-09-02T10:00:00-04:00' },
      { id: '2', member: 'bob', source: 'calls', occurredAt: '2026-09-03T10:00:00-04:00' },
    ]);
    // A deactivation recorded ahead, for after the closing: not in force when the month closes.
    await store.appendStatus('app', 'ann', 'deactivated', NOW + 86_400_000, NOW);
    const statement = await closeMonth(store, o, '2026-09', NOW);
    expect(statement.billable.numerator).toBe(1);
    const later = NOW + 3_600_000;
    await store.appendStatus('app', 'bob', 'deactivated', later, later);
    const closed = await membersUsage(store, o, '2026-09', later);
    expect(closed.totals).toEqual({ members: 2, billable: 2 });
    expect(closed.members.find((m) => m.id === 'ann')).toMatchObject({ billable: true, reason: 'activity' });
    expect(closed.members.find((m) => m.id === 'bob')).toMatchObject({ billable: true, reason: 'activity' });
    expect((await projectsUsage(store, o, '2026-09', later)).total).toEqual({ members: 2, billable: 2 });
    // An open month sees the deactivation.
    await ingest(store, o, [
      { id: '3', member: 'bob', source: 'calls', occurredAt: '2026-10-01T10:00:00-04:00' },
    ]);
    expect((await membersUsage(store, o, '2026-10', later)).members).toMatchObject([
      { id: 'bob', billable: false, reason: 'deactivated' },
    ]);

    // Under status presence, a change recorded after the closing does not move the closed month.
    const s = await store.createOrg(
      org({ id: 'users', counting: { presence: 'status', aggregation: 'average' } }),
      NOW,
    );
    await store.putMember('users', { id: 'cy' }, NOW);
    await store.appendStatus('users', 'cy', 'active', Date.parse('2026-09-01T00:00:00-04:00'), NOW);
    await closeMonth(store, s, '2026-09', NOW);
    await store.appendStatus('users', 'cy', 'revoked', Date.parse('2026-09-11T00:00:00-04:00'), later);
    expect((await membersUsage(store, s, '2026-09', later)).members).toMatchObject([
      { id: 'cy', reason: 'active', daysCounted: 30 },
    ]);
    expect((await membersUsage(store, s, '2026-10', later, { all: true })).members).toMatchObject([
      { id: 'cy', reason: 'not_active', daysCounted: 0 },
    ]);
  });

  it('puts in force a deactivation that came due before a month closes, whatever the rounds did', async () => {
    const o = await store.createOrg(org({ counting: { presence: 'activity', aggregation: 'peak' } }), NOW);
    const v = validateBatch(
      [{ id: '1', member: 'dee', source: 'calls', occurredAt: '2026-09-03T10:00:00-04:00' }],
      NOW,
    );
    if (!v.ok) throw new Error(JSON.stringify(v.issues));
    // dee is created (active) an hour before the closing.
    await store.ingest(o, v.events, NOW - 3_600_000);
    // Recorded a minute ahead of its moment; no background round ran since.
    await store.appendStatus('app', 'dee', 'deactivated', NOW - 60_000, NOW - 120_000);
    expect((await store.getMember('app', 'dee'))?.status).toBe('active');
    const statement = await closeMonth(store, o, '2026-09', NOW);
    expect(statement.billable.numerator).toBe(0);
    expect((await store.getMember('app', 'dee'))?.status).toBe('deactivated');
  });

  it('counts status presence from the history: active at any instant of the day', async () => {
    const o = await store.createOrg(org({ counting: { presence: 'status', aggregation: 'average' } }), NOW);
    await store.putMember('app', { id: 'a' }, NOW);
    await store.putMember('app', { id: 'b' }, NOW);
    await store.appendStatus('app', 'a', 'active', Date.parse('2026-09-01T00:00:00-04:00'), NOW);
    await store.appendStatus('app', 'a', 'revoked', Date.parse('2026-09-16T00:00:00-04:00'), NOW);
    await store.appendStatus('app', 'b', 'invited', Date.parse('2026-09-01T00:00:00-04:00'), NOW);
    const u = await getUsage(store, o, '2026-09', NOW);
    expect(u.billable).toEqual({ value: 0.5, numerator: 15, denominator: 30 });
    expect(u.activeAndInvited).toBe(1);
    const listed = await membersUsage(store, o, '2026-09', NOW, { all: true });
    expect(listed.members.map((m) => [m.id, m.reason, m.daysCounted])).toEqual([
      ['a', 'active', 15],
      ['b', 'not_active', 0],
    ]);
  });

  it('counts no seats on days of the month that have not begun', async () => {
    const o = await store.createOrg(org({ counting: { presence: 'status', aggregation: 'average' } }), NOW);
    await store.putMember('app', { id: 'a' }, NOW);
    await store.appendStatus('app', 'a', 'active', Date.parse('2026-09-01T00:00:00-04:00'), NOW);
    const u = await getUsage(store, o, '2026-10', NOW);
    expect(u.days.map((d) => d.count)).toEqual([1, 1, 1, 1, 1, ...new Array(26).fill(0)]);
    expect(u.toDate).toEqual({ value: 0.16, numerator: 5, denominator: 31 });
    expect(u.projected).toEqual({ value: 1, numerator: 31, denominator: 31 });
    const listed = await membersUsage(store, o, '2026-10', NOW);
    expect(listed.members[0]).toMatchObject({ daysCounted: 5, lastDay: '2026-10-05' });
    expect((await getUsage(store, o, '2026-12', NOW)).days.every((d) => d.count === 0)).toBe(true);
  });

  it.each(['activity', 'status'] as const)(
    'reads members a page at a time with the same result as one page (%s presence)',
    async (presence) => {
      const o = await store.createOrg(org({ counting: { presence, aggregation: 'average' } }), NOW);
      // 23 members, ids that sort differently as text and as numbers, some without activity.
      for (let i = 0; i < 23; i++) {
        await store.putMember('app', { id: `m${i}`, projects: i % 3 === 0 ? ['web'] : [] }, NOW);
        if (i % 4 !== 0) {
          await store.appendStatus(
            'app',
            `m${i}`,
            'active',
            Date.parse(`2026-09-${10 + (i % 9)}T09:00:00-04:00`),
            NOW,
          );
        }
      }
      await store.appendStatus('app', 'm5', 'deactivated', NOW, NOW);
      await ingest(store, o, dailyActivity(3, 20, 17));

      const collect = async (pageSize: number) => {
        const out = [];
        for await (const page of memberUsagePages(store, o, '2026-09', NOW, { all: true }, pageSize)) {
          expect(page.length).toBeLessThanOrEqual(pageSize);
          out.push(...page);
        }
        return out;
      };
      const whole = await collect(1000);
      expect(whole).toHaveLength(23);
      expect(whole.map((m) => m.id)).toEqual([...whole.map((m) => m.id)].sort());
      for (const size of [1, 2, 5, 22, 23]) expect(await collect(size)).toEqual(whole);

      // Cursor pages of the list put together are the whole list, with the same totals each time.
      const full = await membersUsage(store, o, '2026-09', NOW, { all: true });
      const seen = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await membersUsage(store, o, '2026-09', NOW, { all: true }, { cursor, limit: 4 });
        expect(page.totals).toEqual(full.totals);
        seen.push(...page.members);
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      expect(seen).toEqual(full.members);
      expect(full.members).toEqual(whole);
    },
  );

  it('pages members by cursor in the byte order of the store, also past UTF-16 surprises', async () => {
    const o = await store.createOrg(org({ counting: { presence: 'status', aggregation: 'average' } }), NOW);
    // In bytes (UTF-8) 'a！' sorts before 'a😀'; in JavaScript's UTF-16 order it is the other way.
    for (const id of ['a😀', 'a！', 'b']) await store.putMember('app', { id }, NOW);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 5; i++) {
      const page = await membersUsage(store, o, '2026-09', NOW, { all: true }, { cursor, limit: 1 });
      seen.push(...page.members.map((m) => m.id));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(['a！', 'a😀', 'b']);
  });
});
