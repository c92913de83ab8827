import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import fc from 'fast-check';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { monthCalendar } from '../src/core/calendar.js';
import { ConflictError, FairUseCapError, NotFoundError } from '../src/core/errors.js';
import { dailyCounts, statusAt, statusSeats } from '../src/core/presence.js';
import type { Org } from '../src/core/types.js';
import { validateBatch } from '../src/ingest/validate-batch.js';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';
import { closeMonth, getStatement } from '../src/usage/statements.js';
import { getUsage } from '../src/usage/usage-service.js';
import { BACKENDS, memorySqliteBackend } from './support/backends.js';
import { makeOrg } from './support/fixtures.js';
import { expectedCounts, idBatchesArb } from './support/id-batches.js';

/**
 * The storage contract, written once and run against every backend: embedded SQLite on a real file,
 * a real PostgreSQL server started by the suite, and SQLite in memory. The tests that reach the
 * database from outside the store (another store, another process, a trigger) run where it can be
 * reached: not in memory.
 */
const NOW = Date.parse('2026-09-15T10:00:00Z');
const DAY = 86_400_000;

const acme = (over: Partial<Org> = {}): Org => makeOrg({ billingEmails: ['billing@acme.example'], ...over });

function batch(events: unknown[]) {
  const result = validateBatch(events, NOW);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.events;
}

/**
 * Another process ingesting one batch into the same database (`seatmeter import` beside `serve`):
 * `ready` once it has opened the store and is about to ingest, `result` with its answer.
 */
function batchFromAnotherProcess(url: string, orgId: string, events: unknown[]) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(import.meta.dirname, 'support/batch-child.ts'),
      url,
      orgId,
      JSON.stringify(events),
      String(NOW),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += String(d);
  });
  const lines = createInterface({ input: child.stdout });
  const ready = new Promise<void>((resolve) => lines.once('line', () => resolve()));
  const result = new Promise<unknown>((resolve, reject) => {
    let last = '';
    lines.on('line', (line) => {
      last = line;
    });
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(last)) : reject(new Error(stderr))));
  });
  return { ready, result };
}

for (const make of [...BACKENDS, memorySqliteBackend]) {
  const backend = make();
  const { shared } = backend;
  describe(`store contract: ${backend.name}`, () => {
    let store: Store;
    let org: Org;
    const stores: Store[] = [];

    afterAll(async () => {
      for (const s of stores) await s.close();
      await backend.teardown();
    });
    /** The member 'curtis', known to the source 'adversus' as '4711'. */
    const curtisAlias4711 = () =>
      store.putMember('acme', { id: 'curtis', aliases: [{ source: 'adversus', externalId: '4711' }] }, NOW);
    beforeEach(async () => {
      store = await backend.open();
      stores.push(store);
      org = await store.createOrg(acme(), NOW);
    }, 120_000);

    it('creates, reads, lists and updates orgs; a taken id is a conflict', async () => {
      expect(await store.getOrg('acme')).toEqual(acme());
      await expect(store.createOrg(acme(), NOW)).rejects.toBeInstanceOf(ConflictError);
      await store.createOrg(acme({ id: 'beta', name: 'Beta' }), NOW);
      expect((await store.listOrgs()).map((o) => o.id)).toEqual(['acme', 'beta']);
      const changed = acme({ fairUseCap: null, billingEmails: [], webhookUrl: 'https://hooks.example/x' });
      await store.updateOrg(changed, NOW + 1);
      expect(await store.getOrg('acme')).toEqual(changed);
      await expect(store.updateOrg(acme({ id: 'nope' }), NOW)).rejects.toBeInstanceOf(NotFoundError);
      expect(await store.getOrg('nope')).toBeUndefined();
      expect(await store.inviteView('nope', 20_000)).toBeUndefined();
      expect(await store.ping()).toBe(true);
    });

    it('keeps member emails unique per org, case-insensitively, and replaces lists', async () => {
      const m = await store.putMember(
        'acme',
        { id: 'ann', email: 'Ann@Acme.example', projects: ['sales', 'web'], teams: ['red'] },
        NOW,
      );
      expect(m).toMatchObject({ id: 'ann', email: 'Ann@Acme.example', kind: 'person', status: null });
      expect(m.projects).toEqual(['sales', 'web']);
      await expect(
        store.putMember('acme', { id: 'bob', email: 'ann@ACME.example' }, NOW),
      ).rejects.toMatchObject({
        code: 'email_taken',
      });
      // Another org may use the same email.
      await store.createOrg(acme({ id: 'beta' }), NOW);
      await store.putMember('beta', { id: 'ann2', email: 'ann@acme.example' }, NOW);
      const again = await store.putMember('acme', { id: 'ann', name: 'Ann', projects: ['web'] }, NOW);
      expect(again).toMatchObject({
        email: 'Ann@Acme.example',
        name: 'Ann',
        projects: ['web'],
        teams: ['red'],
      });
      expect((await store.listProjects('acme')).map((p) => p.id)).toEqual(['sales', 'web']);
    });

    it('keeps status history sorted whatever the arrival order', async () => {
      await store.putMember('acme', { id: 'u' }, NOW);
      await store.appendStatus('acme', 'u', 'revoked', Date.parse('2026-09-10T00:00:00Z'), NOW);
      const m = await store.appendStatus('acme', 'u', 'active', Date.parse('2026-09-01T00:00:00Z'), NOW);
      expect(m.status).toBe('revoked');
      expect(await store.statusHistories('acme')).toEqual([
        {
          member: 'u',
          changes: [
            { status: 'active', at: Date.parse('2026-09-01T00:00:00Z') },
            { status: 'revoked', at: Date.parse('2026-09-10T00:00:00Z') },
          ],
        },
      ]);
      expect(await store.activeAndInvited('acme')).toBe(0);
      await expect(store.appendStatus('acme', 'ghost', 'active', NOW, NOW)).rejects.toBeInstanceOf(
        NotFoundError,
      );
    });

    it('counts each member once per local day, however many events, and dedupes ids', async () => {
      const events = batch([
        // 23:30 UTC on 31 August is 1 September in Copenhagen.
        { id: 'e1', member: 'ann', source: 'calls', occurredAt: '2026-08-31T23:30:00Z' },
        { id: 'e2', member: 'ann', source: 'calls', occurredAt: '2026-09-01T09:00:00+02:00' },
        { id: 'e3', member: 'ann', source: 'sales', occurredAt: '2026-09-01T10:00:00+02:00' },
        { id: 'e4', member: 'bob', source: 'calls', occurredAt: '2026-09-01T11:00:00+02:00' },
        { id: 'e4', member: 'bob', source: 'calls', occurredAt: '2026-09-01T11:00:00+02:00' },
        { id: 'e5', member: 'bob', source: 'calls', occurredAt: '2026-09-02T11:00:00+02:00' },
      ]);
      expect(await store.ingest(org, events, NOW)).toEqual({ accepted: 5, duplicates: 1, late: 0 });
      expect(await store.ingest(org, events, NOW)).toEqual({ accepted: 0, duplicates: 6, late: 0 });
      const counts = await store.activityCounts('acme', monthCalendar('2026-09', org.timezone));
      expect(counts.slice(0, 3)).toEqual([2, 1, 0]);
      expect(counts).toHaveLength(30);
      expect((await store.activityCounts('acme', monthCalendar('2026-08', org.timezone))).at(-1)).toBe(0);
      // Unknown member ids became active persons.
      expect(await store.getMember('acme', 'ann')).toMatchObject({ kind: 'person', status: 'active' });
      expect(await store.activeAndInvited('acme')).toBe(2);
    });

    it('creates no member for a duplicate: first occurrence wins, in a batch and across batches', async () => {
      expect(
        await store.ingest(
          org,
          batch([
            { id: 'd1', member: 'ann', source: 'calls', occurredAt: '2026-09-01T09:00:00Z' },
            { id: 'd1', member: 'zed', source: 'calls', occurredAt: '2026-09-02T09:00:00Z' },
          ]),
          NOW,
        ),
      ).toEqual({ accepted: 1, duplicates: 1, late: 0 });
      expect(
        await store.ingest(
          org,
          batch([
            { id: 'd2', member: 'bob', source: 'calls', occurredAt: '2026-09-02T09:00:00Z' },
            { id: 'd1', member: 'yan', source: 'sales', occurredAt: '2026-09-03T09:00:00Z' },
            { id: 'd2', member: 'xia', source: 'calls', occurredAt: '2026-09-03T09:00:00Z' },
          ]),
          NOW,
        ),
      ).toEqual({ accepted: 1, duplicates: 2, late: 0 });
      expect((await store.listMembers('acme')).map((m) => m.id)).toEqual(['ann', 'bob']);
      const counts = await store.activityCounts('acme', monthCalendar('2026-09', org.timezone));
      expect(counts.slice(0, 3)).toEqual([1, 1, 0]);
      expect(await store.activeAndInvited('acme')).toBe(2);
    });

    it('dedupes ids whether batches come in increasing runs, re-sent, shuffled or overlapping', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(idBatchesArb, async (batches) => {
          const o = await store.createOrg(acme({ id: `ids-${run++}` }), NOW);
          const answers = [];
          for (const ids of batches) {
            const events = ids.map((id) => ({
              id,
              member: 'ann',
              source: 'calls',
              occurredAt: '2026-09-02T10:00:00Z',
            }));
            answers.push(await store.ingest(o, batch(events), NOW));
          }
          expect(answers).toEqual(expectedCounts(batches));
        }),
        { numRuns: 60 },
      );
    }, 120_000);

    it('resolves aliases, gives source-less events to a shared member and leaves out the deactivated', async () => {
      await curtisAlias4711();
      const result = await store.ingest(
        org,
        batch([
          { id: 'a1', member: '4711', source: 'adversus', occurredAt: '2026-09-03T10:00:00+02:00' },
          { id: 'a2', source: 'marketing', occurredAt: '2026-09-03T10:00:00+02:00' },
          { id: 'a3', source: 'marketing', occurredAt: '2026-09-03T11:00:00+02:00' },
          {
            id: 'a4',
            member: 'gone',
            source: 'calls',
            occurredAt: '2026-09-03T11:00:00+02:00',
            project: 'sales',
          },
        ]),
        NOW,
      );
      expect(result).toEqual({ accepted: 4, duplicates: 0, late: 0 });
      expect(await store.getMember('acme', '4711')).toBeUndefined();
      expect(await store.getMember('acme', 'marketing')).toMatchObject({ kind: 'shared', status: null });
      expect((await store.getMember('acme', 'gone'))?.projects).toEqual(['sales']);
      const cal = monthCalendar('2026-09', org.timezone);
      expect((await store.activityCounts('acme', cal))[2]).toBe(3);
      await store.appendStatus('acme', 'gone', 'deactivated', NOW, NOW);
      expect((await store.activityCounts('acme', cal))[2]).toBe(2);
    });

    it('adds up one member-day-source whether its events name the member or an alias of it', async () => {
      await curtisAlias4711();
      const result = await store.ingest(
        org,
        batch([
          { id: 'b1', member: '4711', source: 'adversus', occurredAt: '2026-09-03T10:00:00+02:00' },
          { id: 'b2', member: 'curtis', source: 'adversus', occurredAt: '2026-09-03T11:00:00+02:00' },
          { id: 'b3', member: '4711', source: 'adversus', occurredAt: '2026-09-03T12:00:00+02:00' },
        ]),
        NOW,
      );
      expect(result).toEqual({ accepted: 3, duplicates: 0, late: 0 });
      const cal = monthCalendar('2026-09', org.timezone);
      expect(await store.activityRows('acme', cal)).toEqual([
        { member: 'curtis', day: 2, source: 'adversus', events: 3 },
      ]);
      expect((await store.activityCounts('acme', cal))[2]).toBe(1);
    });

    if (shared) {
      it('takes up an alias added after batches of an org that had none, and creates each member once', async () => {
        const at = (day: number, source: string, id: string) => ({
          id,
          member: '4711',
          source,
          occurredAt: `2026-09-0${day}T10:00:00Z`,
        });
        // No alias yet: '4711' is a person of its own.
        await store.ingest(org, batch([at(3, 'adversus', 'c1')]), NOW);
        // Another process (another instance, the CLI) adds the alias: this store learns of it only
        // from the database.
        const other = openStore(shared.urlOf(store));
        try {
          await other.putMember(
            'acme',
            { id: 'curtis', aliases: [{ source: 'adversus', externalId: '4711' }] },
            NOW,
          );
        } finally {
          await other.close();
        }
        await store.ingest(org, batch([at(4, 'adversus', 'c2'), at(4, 'calls', 'c3')]), NOW + DAY);
        await store.ingest(org, batch([at(5, 'calls', 'c4')]), NOW + 2 * DAY);
        const cal = monthCalendar('2026-09', org.timezone);
        expect(await store.activityRows('acme', cal)).toEqual([
          { member: '4711', day: 2, source: 'adversus', events: 1 },
          { member: '4711', day: 3, source: 'calls', events: 1 },
          { member: 'curtis', day: 3, source: 'adversus', events: 1 },
          { member: '4711', day: 4, source: 'calls', events: 1 },
        ]);
        expect((await store.getMember('acme', '4711'))?.createdAt).toBe(NOW);
        expect((await store.statusHistories('acme')).find((h) => h.member === '4711')?.changes).toEqual([
          { status: 'active', at: NOW },
        ]);
        expect(await store.activeAndInvited('acme')).toBe(1);
      });

      it('creates a member again after the batch that first created it rolled back', async () => {
        // A trigger fails the batch after its members are written: its transaction rolls back.
        const refuse =
          backend.name === 'sqlite'
            ? `CREATE TRIGGER refuse_boom BEFORE INSERT ON activity_days WHEN NEW.member_id = 'boom'
               BEGIN SELECT RAISE(ABORT, 'refused'); END`
            : `CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN IF NEW.member_id = 'boom' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$;
               CREATE TRIGGER refuse_boom BEFORE INSERT ON activity_days FOR EACH ROW EXECUTE FUNCTION refuse_boom()`;
        await shared.runSql(store, refuse);
        const events = batch([
          { id: 'r1', member: 'boom', source: 'calls', occurredAt: '2026-09-03T10:00:00Z' },
        ]);
        await expect(store.ingest(org, events, NOW)).rejects.toThrow(/refused/);
        expect(await store.getMember('acme', 'boom')).toBeUndefined();
        await shared.runSql(
          store,
          `DROP TRIGGER refuse_boom${backend.name === 'sqlite' ? '' : ' ON activity_days'}`,
        );
        expect(await store.ingest(org, events, NOW + DAY)).toEqual({ accepted: 1, duplicates: 0, late: 0 });
        expect(await store.getMember('acme', 'boom')).toMatchObject({
          status: 'active',
          createdAt: NOW + DAY,
        });
        expect(await store.activeAndInvited('acme')).toBe(1);
        expect((await store.activityCounts('acme', monthCalendar('2026-09', org.timezone)))[2]).toBe(1);
      });
    }

    it('stores events of a closed month as late without touching its counts', async () => {
      const cal = monthCalendar('2026-08', org.timezone);
      await store.ingest(
        org,
        batch([{ id: 'x1', member: 'a', source: 's', occurredAt: '2026-08-10T10:00:00Z' }]),
        NOW,
      );
      const saved = await store.saveStatement('acme', '2026-08', NOW, { billable: 1 });
      expect(await store.saveStatement('acme', '2026-08', NOW + 5, { billable: 99 })).toEqual(saved);
      expect(await store.closedMonths('acme')).toEqual(['2026-08']);
      const late = await store.ingest(
        org,
        batch([
          { id: 'x2', member: 'b', source: 's', occurredAt: '2026-08-10T10:00:00Z' },
          { id: 'x3', member: 'c', source: 's', occurredAt: '2026-09-10T10:00:00Z' },
        ]),
        NOW,
      );
      expect(late).toEqual({ accepted: 2, duplicates: 0, late: 1 });
      expect(await store.lateEvents('acme', '2026-08')).toBe(1);
      await store.ingest(
        org,
        batch([
          { id: 'x4', member: 'b', source: 's', occurredAt: '2026-08-10T12:00:00Z' },
          { id: 'x5', member: 'b', source: 't', occurredAt: '2026-08-11T12:00:00Z' },
          { id: 'x5', member: 'b', source: 't', occurredAt: '2026-08-11T12:00:00Z' },
        ]),
        NOW,
      );
      // Kept per day, member and source, and counted.
      expect(await store.lateActivity('acme', '2026-08')).toEqual([
        { day: cal.firstDay + 9, member: 'b', source: 's', events: 2 },
        { day: cal.firstDay + 10, member: 'b', source: 't', events: 1 },
      ]);
      expect(await store.lateActivity('acme', '2026-09')).toEqual([]);
      expect(await store.lateEvents('acme', '2026-08')).toBe(3);
      expect((await store.activityCounts('acme', cal))[9]).toBe(1);
      expect((await store.getStatement('acme', '2026-08'))?.body).toEqual({ billable: 1 });
      expect(await store.monthFacts('acme', '2026-08')).toEqual({
        activeAndInvited: 3,
        lateEvents: 3,
        statement: { month: '2026-08', closedAt: NOW, body: { billable: 1 } },
      });
      expect(await store.monthFacts('acme', '2026-09')).toEqual({
        activeAndInvited: 3,
        lateEvents: 0,
        statement: undefined,
      });
    });

    it('reads members, their activity and history a page at a time, in byte order of ids', async () => {
      // Byte order; a linguistic collation would put 'a_c' first and 'b' before 'B'.
      const ids = ['B', 'a-b', 'a_c', 'ab', 'b', 'é'];
      for (const id of [...ids].reverse()) {
        await store.putMember(org.id, { id, teams: [], projects: [] }, NOW);
        await store.appendStatus(org.id, id, 'active', NOW, NOW);
      }
      await store.ingest(
        org,
        batch(
          ids.map((member, i) => ({
            id: `e${i}`,
            member,
            source: 'calls',
            occurredAt: '2026-09-03T10:00:00Z',
          })),
        ),
        NOW,
      );
      expect((await store.listMembers(org.id)).map((m) => m.id)).toEqual(ids);
      const first = await store.listMembers(org.id, { limit: 4 });
      expect(first.map((m) => m.id)).toEqual(ids.slice(0, 4));
      const rest = await store.listMembers(org.id, { after: 'ab', limit: 4 });
      expect(rest.map((m) => m.id)).toEqual(['b', 'é']);
      const range = { after: 'B', through: 'ab' };
      const calendar = monthCalendar('2026-09', org.timezone);
      const activity = await store.activityRows(org.id, calendar, range);
      expect(activity.map((r) => r.member).sort()).toEqual(['a-b', 'a_c', 'ab']);
      expect((await store.statusHistories(org.id, range)).map((h) => h.member)).toEqual(['a-b', 'a_c', 'ab']);
    });

    const alert = (kind: 'approaching' | 'breach', id = `al_${kind}`) => ({
      id,
      kind,
      month: '2026-09',
      figure: { numerator: 1440, denominator: 30 },
      allowance: 50,
      message: `${kind} message`,
      createdAt: NOW,
    });
    const targets = [
      { channel: 'email' as const, target: 'billing@acme.example' },
      { channel: 'webhook' as const, target: 'https://hooks.acme.example/seatmeter' },
    ];

    it('raises an alert once per org, month and kind, with its deliveries, even when raced', async () => {
      const raced = await Promise.all(
        [1, 2, 3, 4, 5].map((i) => store.raiseAlert(org.id, alert('approaching', `al_${i}`), targets)),
      );
      expect(raced.filter(Boolean)).toHaveLength(1);
      expect(await store.raiseAlert(org.id, alert('breach'), [])).toBe(true);
      expect((await store.raisedAlertKinds(org.id, '2026-09')).sort()).toEqual(['approaching', 'breach']);
      expect(await store.raisedAlertKinds(org.id, '2026-10')).toEqual([]);
      const listed = await store.listAlerts(org.id);
      expect(listed.map((a) => a.kind).sort()).toEqual(['approaching', 'breach']);
      const approaching = listed.find((a) => a.kind === 'approaching');
      expect(approaching).toMatchObject({ figure: { numerator: 1440, denominator: 30 }, allowance: 50 });
      expect(approaching?.deliveries.map((d) => [d.channel, d.target, d.status, d.attempts])).toEqual([
        ['email', 'billing@acme.example', 'pending', 0],
        ['webhook', 'https://hooks.acme.example/seatmeter', 'pending', 0],
      ]);
      const other = await store.createOrg(acme({ id: 'other' }), NOW);
      expect(await store.raiseAlert(other.id, alert('approaching'), [])).toBe(true);
      expect(await store.listAlerts(other.id)).toHaveLength(1);
    });

    it('claims due deliveries for a lease, records attempts, retries and gives up', async () => {
      await store.raiseAlert(org.id, alert('approaching'), targets);
      const [a, b] = await Promise.all([
        store.claimDeliveries(NOW, 60_000, 1),
        store.claimDeliveries(NOW, 60_000, 1),
      ]);
      // Two claimers at once get different deliveries, never the same one.
      expect([...(a ?? []), ...(b ?? [])].map((d) => d.channel).sort()).toEqual(['email', 'webhook']);
      expect(await store.claimDeliveries(NOW + 1_000, 60_000, 10)).toEqual([]);
      const email = [...(a ?? []), ...(b ?? [])].find((d) => d.channel === 'email');
      const hook = [...(a ?? []), ...(b ?? [])].find((d) => d.channel === 'webhook');
      if (!email || !hook) throw new Error('claim lost a delivery');
      expect(email.alert).toMatchObject({ kind: 'approaching', message: 'approaching message' });

      expect(await store.finishDelivery(email, { at: NOW + 10, ok: true, error: null, retryAt: null })).toBe(
        true,
      );
      expect(
        await store.finishDelivery(hook, {
          at: NOW + 10,
          ok: false,
          error: 'HTTP 500',
          retryAt: NOW + 5_000,
        }),
      ).toBe(true);
      // Not due before its retry time; due after it.
      expect(await store.claimDeliveries(NOW + 4_999, 60_000, 10)).toEqual([]);
      const [again] = await store.claimDeliveries(NOW + 5_000, 60_000, 10);
      expect(again).toMatchObject({ id: hook.id, attempts: 1 });
      // A claim that ran out and was taken over cannot record its attempt.
      const [taken] = await store.claimDeliveries(NOW + 70_000, 60_000, 10);
      if (!again || !taken) throw new Error('expected the webhook delivery again');
      expect(await store.finishDelivery(again, { at: NOW, ok: true, error: null, retryAt: null })).toBe(
        false,
      );
      expect(
        await store.finishDelivery(taken, { at: NOW + 70_010, ok: false, error: 'timeout', retryAt: null }),
      ).toBe(true);
      expect(await store.claimDeliveries(NOW + 10 ** 9, 60_000, 10)).toEqual([]);

      const [listed] = await store.listAlerts(org.id);
      expect(listed?.deliveries.map((d) => [d.channel, d.status, d.attempts, d.lastError])).toEqual([
        ['email', 'sent', 1, null],
        ['webhook', 'failed', 2, 'timeout'],
      ]);
      expect(listed?.deliveries[1]?.log).toEqual([
        { attempt: 1, at: NOW + 10, ok: false, error: 'HTTP 500' },
        { attempt: 2, at: NOW + 70_010, ok: false, error: 'timeout' },
      ]);
    });

    it('takes overlapping batches with new members at the same time without losing or doubling any', async () => {
      const at = '2026-09-03T10:00:00Z';
      const events = (tag: string, from: number) =>
        batch(
          Array.from({ length: 40 }, (_, i) => ({
            id: `${tag}-${from + i}`,
            member: `new-${String((from + i) % 50).padStart(2, '0')}`,
            source: i % 2 === 0 ? 'calls' : 'deals',
            project: 'sales',
            occurredAt: at,
          })),
        );
      const results = await Promise.all([
        store.ingest(org, events('x', 0), NOW),
        store.ingest(org, events('x', 0), NOW),
        store.ingest(org, events('y', 20), NOW),
        store.ingest(org, events('x', 10), NOW),
      ]);
      // 'x' ids 0..49 and 'y' ids 20..59: 50 + 40 distinct events.
      expect(results.reduce((n, r) => n + r.accepted, 0)).toBe(90);
      expect(results.reduce((n, r) => n + r.accepted + r.duplicates, 0)).toBe(160);
      const members = await store.listMembers(org.id);
      expect(members).toHaveLength(50);
      expect(members.every((m) => m.status === 'active' && m.projects.includes('sales'))).toBe(true);
      const histories = await store.statusHistories(org.id);
      expect(histories.every((h) => h.changes.length === 1)).toBe(true);
      const counts = await store.activityCounts(org.id, monthCalendar('2026-09', org.timezone));
      expect(counts[2]).toBe(50);
      const rows = await store.activityRows(org.id, monthCalendar('2026-09', org.timezone));
      expect(rows.reduce((n, r) => n + r.events, 0)).toBe(90);
    });

    it('answers batches of one org sent at once as if they had been written one after another', async () => {
      // Concurrent batches of an org are written in groups (one transaction each): every caller
      // must still get its own counts, as if its batch had run alone after the ones called before.
      const eventArb = fc.record({
        id: fc.integer({ min: 0, max: 40 }),
        // -1: no member (the source's shared member); -2: the member 'calls', a source's name.
        member: fc.integer({ min: -2, max: 8 }),
        source: fc.constantFrom('calls', 'deals'),
        day: fc.integer({ min: 1, max: 4 }),
      });
      // Each batch is sent at its own moment, some either side of a local midnight (22:00 UTC).
      const midnight = Date.parse('2026-09-15T22:00:00Z');
      const momentArb = fc.constantFrom(NOW, midnight - 1, midnight + 1);
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({ events: fc.array(eventArb, { minLength: 1, maxLength: 12 }), at: momentArb }),
            { minLength: 2, maxLength: 6 },
          ),
          async (calls) => {
            run++;
            // August is closed in both orgs: day 1 falls in it, so some events are late.
            const [together, inTurn] = (await Promise.all(
              ['together', 'in-turn'].map(async (name) => {
                const o = await store.createOrg(acme({ id: `${name}-${run}` }), NOW);
                await closeMonth(store, o, '2026-08', NOW);
                return o;
              }),
            )) as [Org, Org];
            // SQLite writes the batches in groups, in call order: an id repeated across them
            // counts in the first caller's, a member is created at the moment of the first batch
            // that names it, and the first to name 'calls' makes it a person or the shared member.
            // PostgreSQL runs them as concurrent transactions in an order of its own, so there the
            // batches share no ids, arrive at one moment and never name the member 'calls'.
            const member = (m: number) =>
              m >= 0 ? { member: `m${m}` } : m === -2 && !store.shared ? { member: 'calls' } : {};
            const batches = calls.map(({ events, at }, n) => ({
              at: store.shared ? NOW : at,
              events: batch(
                events.map((e) => ({
                  id: store.shared ? `b${n}-e${e.id}` : `e${e.id}`,
                  ...member(e.member),
                  source: e.source,
                  occurredAt: `2026-0${e.day === 1 ? '8-31' : `9-0${e.day}`}T10:00:00Z`,
                })),
              ),
            }));
            const sent = await Promise.all(batches.map((b) => store.ingest(together, b.events, b.at)));
            const expected = [];
            for (const b of batches) expected.push(await store.ingest(inTurn, b.events, b.at));
            expect(sent).toEqual(expected);
            const september = monthCalendar('2026-09', 'Europe/Copenhagen');
            expect(await store.statusCounts(together.id, september)).toEqual(
              await store.statusCounts(inTurn.id, september),
            );
            const kinds = async (o: Org) =>
              (await store.listMembers(o.id)).map((m) => [m.id, m.kind, m.status]);
            expect(await kinds(together)).toEqual(await kinds(inTurn));
            for (const month of ['2026-08', '2026-09']) {
              const calendar = monthCalendar(month, 'Europe/Copenhagen');
              expect(await store.activityCounts(together.id, calendar)).toEqual(
                await store.activityCounts(inTurn.id, calendar),
              );
              // In no particular order.
              const rows = async (o: Org) =>
                (await store.activityRows(o.id, calendar)).map((r) => JSON.stringify(r)).sort();
              expect(await rows(together)).toEqual(await rows(inTurn));
              expect(await store.lateEvents(together.id, month)).toBe(
                await store.lateEvents(inTurn.id, month),
              );
              expect(await store.lateActivity(together.id, month)).toEqual(
                await store.lateActivity(inTurn.id, month),
              );
            }
            expect(await store.activeAndInvited(together.id)).toBe(await store.activeAndInvited(inTurn.id));
          },
        ),
        { numRuns: 12 },
      );
      // A group fails as a whole, and each of its callers hears why.
      const ghost = acme({ id: 'ghost' });
      const gone = await Promise.allSettled(
        [0, 1, 2].map((i) =>
          store.ingest(ghost, batch([{ id: `g${i}`, source: 's', occurredAt: '2026-09-02T10:00:00Z' }]), NOW),
        ),
      );
      for (const r of gone) {
        expect(r.status).toBe('rejected');
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(NotFoundError);
      }
    }, 120_000);

    it('runs a named job in one process at a time where the database is shared', async () => {
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const first = store.exclusively('job', () => held);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const second = await store.exclusively('job', async () => {});
      // SQLite belongs to one process: the job always runs there.
      expect(second).toBe(!store.shared);
      expect(await store.exclusively('other job', async () => {})).toBe(true);
      release();
      expect(await first).toBe(true);
      expect(await store.exclusively('job', async () => {})).toBe(true);
    });

    it('counts rate-limit hits per org, bucket and window, exactly under concurrency', async () => {
      const hits = await Promise.all(
        Array.from({ length: 20 }, () => store.rateLimitHit(org.id, 'k1', 1_000)),
      );
      expect([...hits].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(await store.rateLimitHit(org.id, 'k1', 2_000)).toBe(1);
      expect(await store.rateLimitHit(org.id, 'k2', 1_000)).toBe(1);
      expect(await store.rateLimitHit('-', 'k1', 1_000)).toBe(1);
      await store.pruneRateLimits(2_000);
      expect(await store.rateLimitHit(org.id, 'k1', 1_000)).toBe(1);
      expect(await store.rateLimitHit(org.id, 'k1', 2_000)).toBe(2);
    });

    it('keeps the daily seat counts equal to a recount through ingest, deactivation and reactivation', async () => {
      let seed = 7;
      const random = () => {
        seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
        return seed / 2_147_483_648;
      };
      const calendar = monthCalendar('2026-09', org.timezone);
      const recount = async () => {
        const statuses = new Map((await store.listMembers(org.id)).map((m) => [m.id, m.status]));
        const perDay = Array.from({ length: calendar.days }, () => new Set<string>());
        for (const r of await store.activityRows(org.id, calendar)) {
          if (statuses.get(r.member) !== 'deactivated') perDay[r.day]?.add(r.member);
        }
        return perDay.map((d) => d.size);
      };
      let n = 0;
      for (let round = 0; round < 8; round++) {
        const events = Array.from({ length: 60 }, () => ({
          id: `r${n++ % 300}`,
          member: `p${Math.floor(random() * 12)}`,
          source: random() < 0.5 ? 'calls' : 'deals',
          occurredAt: `2026-09-${String(1 + Math.floor(random() * 14)).padStart(2, '0')}T10:00:00Z`,
        }));
        // Ingest and status changes at the same time (concurrent on PostgreSQL).
        const members = [...new Set(events.map((e) => e.member))].slice(0, 3);
        await Promise.all([
          store.ingest(org, batch(events), NOW),
          ...members.map(async (m) => {
            if (!(await store.getMember(org.id, m))) return;
            const status = (['deactivated', 'active', 'revoked', 'deactivated'] as const)[
              Math.floor(random() * 4)
            ];
            await store.appendStatus(org.id, m, status ?? 'active', NOW + round, NOW);
          }),
        ]);
        expect(await store.activityCounts(org.id, calendar)).toEqual(await recount());
        const listed = await store.listMembers(org.id);
        const activeAndInvited = listed.filter((m) => m.status === 'active' || m.status === 'invited').length;
        expect(await store.activeAndInvited(org.id)).toBe(activeAndInvited);
        const counts = await recount();
        const day = round % 14;
        // No activity before September 1 here: the day before the first is 0.
        expect(await store.inviteView(org.id, calendar.firstDay + day)).toEqual({
          org,
          seatsAround: [counts[day - 1] ?? 0, counts[day], counts[day + 1]],
          activeAndInvited,
        });
      }
      expect((await store.activityCounts(org.id, calendar)).some((c) => c > 0)).toBe(true);
    });

    it('files a batch under the timezone the org has when the batch runs, not the one its caller read', async () => {
      const stale = org;
      await store.updateOrg({ ...org, timezone: 'America/New_York' }, NOW);
      // 03:30 UTC on the 15th is still the 14th in New York, already the 15th in Copenhagen.
      const at = Date.parse('2026-09-15T03:30:00Z');
      await store.ingest(
        stale,
        batch([{ id: 'tz1', member: 'newbie', source: 'calls', occurredAt: '2026-09-15T03:30:00Z' }]),
        at,
      );
      const calendar = monthCalendar('2026-09', 'America/New_York');
      expect((await store.activityRows(org.id, calendar)).map((r) => r.day)).toEqual([13]);
      expect(await store.statusCounts(org.id, calendar)).toEqual(
        dailyCounts(statusSeats({ calendar, histories: await store.statusHistories(org.id) }), calendar.days),
      );
      expect((await store.statusCounts(org.id, calendar))[13]).toBe(1);
    });

    it('lets only one of two invites at the fair-use cap minus one through, and none for a taken id', async () => {
      for (const id of ['ann', 'bob'])
        await store.invite(org.id, { id, email: `${id}@acme.example` }, 3, NOW);
      const results = await Promise.allSettled(
        ['cyd', 'dee'].map((id) => store.invite(org.id, { id, email: `${id}@acme.example` }, 3, NOW)),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toBeInstanceOf(FairUseCapError);
      expect(await store.activeAndInvited(org.id)).toBe(3);
      expect((await store.listMembers(org.id)).map((m) => m.status)).toEqual([
        'invited',
        'invited',
        'invited',
      ]);
      await expect(
        store.invite(org.id, { id: 'ann', email: 'ann2@acme.example' }, null, NOW),
      ).rejects.toMatchObject({
        code: 'member_exists',
      });
    });

    it('re-invites deactivated members while batches bring their activity, without deadlock', async () => {
      const calendar = monthCalendar('2026-09', org.timezone);
      for (let r = 0; r < 15; r++) {
        const m = `back-${r}`;
        await store.putMember(org.id, { id: m }, NOW - DAY);
        await store.appendStatus(org.id, m, 'active', NOW - DAY, NOW - DAY);
        await store.ingest(
          org,
          batch([{ id: `bk-${r}`, member: m, source: 'calls', occurredAt: '2026-09-15T08:00:00Z' }]),
          NOW,
        );
        await store.appendStatus(org.id, m, 'deactivated', NOW, NOW);
        const results = await Promise.allSettled([
          store.ingest(
            org,
            batch([
              {
                id: `bk-${r}-a`,
                member: m,
                source: 'calls',
                occurredAt: '2026-09-15T09:00:00Z',
                project: 'p',
              },
              { id: `bk-${r}-b`, member: `fresh-${r}`, source: 'calls', occurredAt: '2026-09-15T09:00:00Z' },
            ]),
            NOW,
          ),
          store.invite(org.id, { id: m, email: `${m}@acme.example`, projects: ['p'] }, null, NOW),
        ]);
        expect(results.filter((x) => x.status === 'rejected')).toEqual([]);
      }
      // Each re-invited member holds its seat again: 15 of them and 15 fresh members on the 15th.
      const day = (await store.activityCounts(org.id, calendar))[14] as number;
      const rows = await store.activityRows(org.id, calendar);
      const members = new Map((await store.listMembers(org.id)).map((x) => [x.id, x.status]));
      const seated = new Set(
        rows.filter((x) => x.day === 14 && members.get(x.member) !== 'deactivated').map((x) => x.member),
      );
      expect(day).toBe(seated.size);
      expect(seated.size).toBeGreaterThanOrEqual(30);
    });

    it('invites a member without a status, or revoked, again; not an active one', async () => {
      await store.putMember(org.id, { id: 'nos', email: 'nos@acme.example', name: 'No Status' }, NOW);
      await store.putMember(org.id, { id: 'rev', email: 'rev@acme.example' }, NOW);
      await store.appendStatus(org.id, 'rev', 'active', NOW - 2 * DAY, NOW);
      await store.appendStatus(org.id, 'rev', 'revoked', NOW - DAY, NOW);
      const before = await store.activeAndInvited(org.id);
      const nos = await store.invite(org.id, { id: 'nos', email: 'nos@acme.example' }, null, NOW);
      expect(nos).toMatchObject({ id: 'nos', name: 'No Status', status: 'invited' });
      const rev = await store.invite(org.id, { id: 'rev', email: 'rev@acme.example' }, null, NOW);
      expect(rev.status).toBe('invited');
      expect(await store.activeAndInvited(org.id)).toBe(before + 2);
      expect((await store.statusHistories(org.id)).find((h) => h.member === 'rev')?.changes).toHaveLength(3);
      await store.appendStatus(org.id, 'rev', 'active', NOW, NOW);
      await expect(
        store.invite(org.id, { id: 'rev', email: 'rev@acme.example' }, null, NOW),
      ).rejects.toMatchObject({ code: 'member_exists' });
      expect(await store.activeAndInvited(org.id)).toBe(before + 2);
    });

    it('keeps the status-presence daily counts equal to a recount from the histories, through a timezone change', async () => {
      let seed = 11;
      const random = () => {
        seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
        return seed / 2_147_483_648;
      };
      const months = ['2026-08', '2026-09', '2026-10'];
      const check = async (zone: string) => {
        const histories = await store.statusHistories(org.id);
        // Each member's current status is the one in force when the changes were recorded (NOW),
        // whatever order they came in; changes ahead of it are not in force yet.
        const current = new Map((await store.listMembers(org.id)).map((m) => [m.id, m.status]));
        for (const h of histories)
          expect([h.member, current.get(h.member)]).toEqual([h.member, statusAt(h.changes, NOW) ?? null]);
        for (const month of months) {
          const calendar = monthCalendar(month, zone);
          expect([month, await store.statusCounts(org.id, calendar)]).toEqual([
            month,
            dailyCounts(statusSeats({ calendar, histories }), calendar.days),
          ]);
        }
      };
      // Persons created by ingest start active now; the rest get histories out of order, with ties.
      await store.ingest(
        org,
        batch([
          { id: 's1', member: 'ingested-1', source: 'calls', occurredAt: '2026-09-14T10:00:00Z' },
          { id: 's2', member: 'ingested-2', source: 'calls', occurredAt: '2026-09-14T11:00:00Z' },
        ]),
        NOW,
      );
      for (let m = 0; m < 10; m++) await store.putMember(org.id, { id: `u${m}` }, NOW);
      const base = Date.parse('2026-08-20T00:00:00Z');
      const statuses = ['invited', 'active', 'revoked', 'deactivated', 'active'] as const;
      for (let round = 0; round < 6; round++) {
        await Promise.all(
          Array.from({ length: 4 }, async () => {
            const member = `u${Math.floor(random() * 10)}`;
            const status = statuses[Math.floor(random() * statuses.length)] ?? 'active';
            // Whole hours from 20 August to the end of October; midnights and ties on purpose.
            const at = base + Math.floor(random() * 72 * 24) * 3_600_000;
            await store.appendStatus(org.id, member, status, at, NOW);
          }),
        );
        await check(org.timezone);
      }
      const moved = { ...org, timezone: 'America/New_York' };
      await store.updateOrg(moved, NOW);
      await check('America/New_York');
      await store.appendStatus(org.id, 'u1', 'active', Date.parse('2026-09-30T23:30:00-04:00'), NOW);
      await check('America/New_York');
      expect(
        (await store.statusCounts(org.id, monthCalendar('2026-09', moved.timezone))).some((c) => c > 0),
      ).toBe(true);
    });

    it('puts a status change recorded ahead in force when its moment comes', async () => {
      const calendar = monthCalendar('2026-09', org.timezone);
      await store.putMember(org.id, { id: 'later' }, NOW);
      await store.appendStatus(org.id, 'later', 'active', NOW - DAY, NOW);
      await store.ingest(
        org,
        batch([{ id: 'la1', member: 'later', source: 'calls', occurredAt: '2026-09-02T10:00:00Z' }]),
        NOW,
      );
      const counted = await store.activeAndInvited(org.id);
      const seats = (await store.activityCounts(org.id, calendar))[1] as number;
      await store.appendStatus(org.id, 'later', 'deactivated', NOW + DAY, NOW);
      expect((await store.getMember(org.id, 'later'))?.status).toBe('active');
      expect(await store.activeAndInvited(org.id)).toBe(counted);
      expect((await store.activityCounts(org.id, calendar))[1]).toBe(seats);
      expect(await store.settleStatuses(org.id, NOW + DAY - 1)).toBe(0);
      expect((await store.getMember(org.id, 'later'))?.status).toBe('active');
      expect(await store.settleStatuses(org.id, NOW + DAY)).toBe(1);
      expect((await store.getMember(org.id, 'later'))?.status).toBe('deactivated');
      expect(await store.activeAndInvited(org.id)).toBe(counted - 1);
      expect((await store.activityCounts(org.id, calendar))[1]).toBe(seats - 1);
      expect(await store.settleStatuses(org.id, NOW + 2 * DAY)).toBe(0);
    });

    it('gives a member back its seats on days only it had activity when it is reactivated', async () => {
      const calendar = monthCalendar('2026-09', org.timezone);
      await store.putMember(org.id, { id: 'solo' }, NOW);
      await store.appendStatus(org.id, 'solo', 'deactivated', NOW - 1_000, NOW);
      await store.ingest(
        org,
        batch([{ id: 's1', member: 'solo', source: 'calls', occurredAt: '2026-09-03T10:00:00Z' }]),
        NOW,
      );
      expect((await store.activityCounts(org.id, calendar))[2]).toBe(0);
      await store.appendStatus(org.id, 'solo', 'active', NOW, NOW);
      expect((await store.activityCounts(org.id, calendar))[2]).toBe(1);
      await store.appendStatus(org.id, 'solo', 'deactivated', NOW + 1, NOW + 1);
      expect((await store.activityCounts(org.id, calendar))[2]).toBe(0);
    });

    it('takes batches with new members and status changes of their members at once, without deadlock', async () => {
      const calendar = monthCalendar('2026-09', org.timezone);
      await store.putMember(org.id, { id: 'm' }, NOW);
      for (let i = 0; i < 12; i++) {
        const day = String(1 + i).padStart(2, '0');
        await Promise.all([
          store.ingest(
            org,
            batch([
              { id: `n${i}`, member: `new-${i}`, source: 'calls', occurredAt: `2026-09-${day}T10:00:00Z` },
              { id: `m${i}`, member: 'm', source: 'calls', occurredAt: `2026-09-${day}T11:00:00Z` },
            ]),
            NOW,
          ),
          store.appendStatus(org.id, 'm', i % 2 === 0 ? 'deactivated' : 'active', NOW + i, NOW + 100),
        ]);
      }
      // m ends active (the last change): every day has new-i and m.
      const counts = await store.activityCounts(org.id, calendar);
      expect(counts.slice(0, 12)).toEqual(new Array(12).fill(2));
      expect(await store.activeAndInvited(org.id)).toBe(13);
    });

    it('closes a month while batches for it arrive: every event is in the statement or late', async () => {
      const member = (i: number) => `late-${String(i).padStart(2, '0')}`;
      const ingest = (i: number) =>
        store.ingest(
          org,
          batch([
            {
              id: `c${i}`,
              member: member(i),
              source: 'calls',
              occurredAt: `2026-08-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00Z`,
            },
          ]),
          NOW,
        );
      const batches = Array.from({ length: 30 }, (_, i) => i);
      const [statement] = await Promise.all([
        (async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          return closeMonth(store, org, '2026-08', NOW);
        })(),
        ...batches.map(async (i) => {
          await new Promise((resolve) => setTimeout(resolve, i));
          return ingest(i);
        }),
      ]);
      const frozen = (statement as { days: Array<{ count: number }> }).days.reduce((n, d) => n + d.count, 0);
      const late = await store.lateEvents(org.id, '2026-08');
      expect(frozen + late).toBe(30);
      expect((await getStatement(store, org, '2026-08')).lateEvents).toBe(late);
    });

    if (shared) {
      it('holds off a batch from another process while a month closes: it waits, then stores its events as late', async () => {
        const calendar = monthCalendar('2026-08', org.timezone);
        await store.ingest(
          org,
          batch([{ id: 'a1', member: 'ann', source: 'calls', occurredAt: '2026-08-10T10:00:00Z' }]),
          NOW,
        );
        const other = batchFromAnotherProcess(shared.urlOf(store), org.id, [
          { id: 'b1', member: 'bob', source: 'calls', occurredAt: '2026-08-10T11:00:00Z' },
        ]);
        const closing = await store.closingMonth(org.id, async (closing) => {
          await other.ready;
          const finished = await Promise.race([
            other.result.then(() => true),
            new Promise((resolve) => setTimeout(() => resolve(false), 1000)),
          ]);
          const counts = await closing.activityCounts(org.id, calendar);
          await closing.saveStatement(org.id, '2026-08', NOW, { counts });
          return { finished, counts };
        });
        // The other batch could not finish while the month was closing, so it is not in the counts
        // the statement froze, and it is stored as late.
        expect(closing.finished).toBe(false);
        expect(closing.counts[9]).toBe(1);
        expect(await other.result).toEqual({ accepted: 1, duplicates: 0, late: 1 });
        expect(await store.lateEvents(org.id, '2026-08')).toBe(1);
        expect((await store.activityCounts(org.id, calendar))[9]).toBe(1);
      }, 30_000);
    }

    it('closes a month while more batches wait for it than the database has connections', async () => {
      const waiting: Array<Promise<{ late: number }>> = [];
      const saved = await store.closingMonth(org.id, async (closing) => {
        // More batches than PostgreSQL's pool has connections: each takes one and waits for the
        // closing's lock (on SQLite they wait in memory).
        for (let i = 0; i < 16; i++) {
          const event = { id: `w${i}`, member: `w${i}`, source: 'calls', occurredAt: '2026-08-10T10:00:00Z' };
          waiting.push(store.ingest(org, batch([event]), NOW));
        }
        await new Promise((resolve) => setTimeout(resolve, 300));
        const usage = await getUsage(closing, org, '2026-08', NOW);
        return closing.saveStatement(org.id, '2026-08', NOW, { billable: usage.billable });
      });
      expect(saved.body).toEqual({ billable: { value: 0, numerator: 0, denominator: 1 } });
      for (const result of await Promise.all(waiting)) expect(result.late).toBe(1);
    }, 30_000);

    it('isolates orgs: the same event and member ids in two orgs never mix', async () => {
      const beta = await store.createOrg(acme({ id: 'beta', timezone: 'UTC' }), NOW);
      const e = batch([{ id: 'same', member: 'ann', source: 's', occurredAt: '2026-09-05T10:00:00Z' }]);
      expect((await store.ingest(org, e, NOW)).accepted).toBe(1);
      expect((await store.ingest(beta, e, NOW)).accepted).toBe(1);
      await store.appendStatus('beta', 'ann', 'deactivated', NOW, NOW);
      expect((await store.activityCounts('acme', monthCalendar('2026-09', 'Europe/Copenhagen')))[4]).toBe(1);
      expect((await store.activityCounts('beta', monthCalendar('2026-09', 'UTC')))[4]).toBe(0);
    });
  });
}
