import { parse } from 'csv-parse/sync';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../src/api/server.js';
import type { Store } from '../src/store/store.js';
import { BACKENDS } from './support/backends.js';
import { perLicensePlan, tieredPlan } from './support/fixtures.js';
import { http } from './support/http.js';

const ADMIN = 'operator-secret';
const NOW = Date.parse('2026-10-20T12:00:00Z');
const headers = { authorization: `Bearer ${ADMIN}` };

for (const make of BACKENDS) {
  const backend = make();
  describe(`HTTP API: members, events, usage views and invites (${backend.name})`, () => {
    let store: Store;
    let app: FastifyInstance;
    let base = '';
    // The server's clock: NOW, but for a test that moves it and puts it back.
    let clock = NOW;
    // Over a real socket: the server listens on a loopback port and the suite speaks HTTP to it.
    const call = (method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, payload?: unknown) =>
      http(base, method, url, { headers, payload });

    beforeAll(async () => {
      store = await backend.open();
      app = await buildServer({ store, adminKey: ADMIN, now: () => clock, checkAnswers: true });
      base = await app.listen({ port: 0, host: '127.0.0.1' });
      await call('POST', '/v1/orgs', {
        id: 'calls',
        name: 'Calls',
        timezone: 'Europe/Copenhagen',
        plan: perLicensePlan({ licenses: 3 }),
      });
    }, 120_000);
    afterAll(async () => {
      await app.close();
      await store.close();
      await backend.teardown();
    });

    it('creates a project, team or member without a body (curl -X PUT) under its id', async () => {
      await call('POST', '/v1/orgs', {
        id: 'bare',
        name: 'Bare',
        timezone: 'UTC',
        plan: perLicensePlan({ licenses: 3 }),
      });
      expect((await call('PUT', '/v1/orgs/bare/projects/p1')).json()).toEqual({ id: 'p1', name: 'p1' });
      expect((await call('PUT', '/v1/orgs/bare/teams/t1')).json()).toEqual({ id: 't1', name: 't1' });
      const member = await call('PUT', '/v1/orgs/bare/members/m1');
      expect(member.statusCode).toBe(200);
      expect(member.json()).toMatchObject({ id: 'm1', kind: 'person' });
      expect((await call('PUT', '/v1/orgs/bare/members/m2', '')).statusCode).toBe(200);
      // A body that is there is still checked.
      const bad = await call('PUT', '/v1/orgs/bare/projects/p1', { name: 7 });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ error: { details: [{ field: 'name' }] } });
    });

    it('creates projects, teams and members, and appends status', async () => {
      expect((await call('PUT', '/v1/orgs/calls/projects/sales', { name: 'Sales' })).json()).toEqual({
        id: 'sales',
        name: 'Sales',
      });
      expect((await call('PUT', '/v1/orgs/calls/teams/red', {})).statusCode).toBe(200);
      const ann = await call('PUT', '/v1/orgs/calls/members/ann', {
        email: 'ann@calls.example',
        name: '=HYPERLINK("http://evil")',
        projects: ['sales'],
        teams: ['red'],
        aliases: [{ source: 'adversus', externalId: '17' }],
        status: 'active',
      });
      expect(ann.statusCode).toBe(200);
      expect(ann.json()).toMatchObject({
        id: 'ann',
        status: 'active',
        aliases: [{ source: 'adversus', externalId: '17' }],
      });
      const taken = await call('PUT', '/v1/orgs/calls/members/bob', { email: 'ANN@calls.example' });
      expect(taken.statusCode).toBe(409);
      // A change back in time does not replace the latest status; one at the same instant does.
      const earlier = await call('POST', '/v1/orgs/calls/members/ann/status', {
        status: 'revoked',
        at: '2026-10-01T00:00:00Z',
      });
      expect(earlier.json()).toMatchObject({ status: 'active' });
      const status = await call('POST', '/v1/orgs/calls/members/ann/status', { status: 'deactivated' });
      expect(status.json()).toMatchObject({ status: 'deactivated' });
      const back = await call('POST', '/v1/orgs/calls/members/ann/status', { status: 'active' });
      expect(back.json()).toMatchObject({ status: 'active' });
      expect(
        (await call('POST', '/v1/orgs/calls/members/ghost/status', { status: 'active' })).statusCode,
      ).toBe(404);
      expect(
        (await call('POST', '/v1/orgs/calls/members/ann/status', { status: 'sleeping' })).json(),
      ).toMatchObject({
        error: { details: [{ field: 'status' }] },
      });
    });

    it('rejects a batch with one bad event whole, naming its index, and counts re-sent events once', async () => {
      const good = [
        { id: 'e1', member: '17', source: 'adversus', occurredAt: '2026-10-01T09:00:00+02:00' },
        {
          id: 'e2',
          member: 'bob',
          source: 'calls',
          occurredAt: '2026-10-01T10:00:00+02:00',
          project: 'sales',
        },
        { id: 'e3', source: 'marketing', occurredAt: '2026-10-02T10:00:00+02:00' },
      ];
      const bad = await call('POST', '/v1/orgs/calls/events', {
        events: [...good, { id: 'e4', source: 'calls', occurredAt: '2026-10-01 10:00' }],
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ error: { details: [{ index: 3, field: 'occurredAt' }] } });
      const before = (await call('GET', '/v1/orgs/calls/usage?month=2026-10')).json() as {
        days: Array<{ count: number }>;
      };
      expect(before.days.every((d) => d.count === 0)).toBe(true);
      expect((await call('POST', '/v1/orgs/calls/events', { events: good })).json()).toEqual({
        accepted: 3,
        duplicates: 0,
        late: 0,
      });
      expect((await call('POST', '/v1/orgs/calls/events', { events: good })).json()).toEqual({
        accepted: 0,
        duplicates: 3,
        late: 0,
      });
      const usage = (await call('GET', '/v1/orgs/calls/usage?month=2026-10')).json() as {
        days: Array<{ count: number }>;
      };
      expect(usage.days.slice(0, 2).map((d) => d.count)).toEqual([2, 1]);
    });

    it('lists members as JSON and as CSV with formulas made inert', async () => {
      const json = (await call('GET', '/v1/orgs/calls/usage/members?month=2026-10')).json() as {
        members: Array<{ id: string; teams: string[]; projects: string[]; sources: Record<string, number> }>;
        totals: { members: number; billable: number };
        facets: { teams: string[]; projects: string[]; sources: string[] };
        nextCursor: string | null;
      };
      // Every team, project and source of the listed members, the filters' choices.
      const every = (pick: (m: (typeof json.members)[number]) => string[]) =>
        [...new Set(json.members.flatMap(pick))].sort();
      expect(json.facets).toEqual({
        teams: every((m) => m.teams),
        projects: every((m) => m.projects),
        sources: every((m) => Object.keys(m.sources)),
      });
      expect(json.facets.sources).toEqual(['adversus', 'calls', 'marketing']);
      expect(json.members.map((m) => m.id)).toEqual(['ann', 'bob', 'marketing']);
      expect(json.totals).toEqual({ members: 3, billable: 3 });
      expect(json.nextCursor).toBeNull();
      const page = (
        await call('GET', '/v1/orgs/calls/usage/members?month=2026-10&limit=2')
      ).json() as typeof json;
      expect(page.members.map((m) => m.id)).toEqual(['ann', 'bob']);
      expect(page.nextCursor).toBe('bob');
      // Totals and facets are of the whole list, whatever page.
      expect(page.totals).toEqual(json.totals);
      expect(page.facets).toEqual(json.facets);
      const rest = (
        await call('GET', '/v1/orgs/calls/usage/members?month=2026-10&limit=2&cursor=bob')
      ).json() as typeof json;
      expect(rest.members.map((m) => m.id)).toEqual(['marketing']);
      expect((await call('GET', '/v1/orgs/calls/usage/members?month=2026-10&team=red')).json()).toMatchObject(
        {
          members: [{ id: 'ann' }],
        },
      );

      // Empty parameters, as a URL template fills them, are parameters not given.
      const blank = await call('GET', '/v1/orgs/calls/usage/members?month=2026-10&team=&project=&source=');
      expect(blank.statusCode).toBe(200);
      expect(blank.json()).toEqual(json);
      const thisMonth = await call('GET', '/v1/orgs/calls/usage/projects?month=');
      expect(thisMonth.json()).toEqual(
        (await call('GET', '/v1/orgs/calls/usage/projects?month=2026-10')).json(),
      );
      expect((await call('GET', '/v1/orgs/calls/usage/members?month=2026-10&all=1')).json()).toEqual(
        (await call('GET', '/v1/orgs/calls/usage/members?month=2026-10&all=true')).json(),
      );

      const csv = await http(base, 'GET', '/v1/orgs/calls/usage/members?month=2026-10', {
        headers: { ...headers, accept: 'text/csv' },
      });
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      const rows = parse(csv.body, { columns: true }) as Array<Record<string, string>>;
      expect(rows.map((r) => r.id)).toEqual(['ann', 'bob', 'marketing']);
      expect(rows[0]).toMatchObject({
        name: `'=HYPERLINK("http://evil")`,
        billable: 'true',
        sources: 'adversus:1',
      });
      expect((await call('GET', '/v1/orgs/calls/usage/members?month=2026-10&format=csv')).body).toBe(
        csv.body,
      );
    });

    it('counts members per project and once in the total', async () => {
      expect((await call('GET', '/v1/orgs/calls/usage/projects?month=2026-10')).json()).toEqual({
        projects: [{ id: 'sales', name: 'Sales', members: 2, billable: 2 }],
        total: { members: 3, billable: 3 },
      });
    });

    it('closes an ended month once, keeps its statement through late events, and refuses an open month', async () => {
      expect(
        (
          await call('POST', '/v1/orgs/calls/events', {
            events: [
              { id: 'sep-1', member: 'bob', source: 'calls', occurredAt: '2026-09-10T10:00:00+02:00' },
            ],
          })
        ).json(),
      ).toEqual({ accepted: 1, duplicates: 0, late: 0 });
      expect((await call('GET', '/v1/orgs/calls/statements/2026-09')).statusCode).toBe(404);
      const closed = await call('POST', '/v1/orgs/calls/months/2026-09/close');
      expect(closed.statusCode).toBe(200);
      const statement = closed.json() as Record<string, unknown>;
      expect(statement).toMatchObject({
        org: 'calls',
        month: '2026-09',
        billable: { value: 1, numerator: 1, denominator: 1 },
        allowance: 3,
        charge: { licenses: 3, amount: 7500 },
        lateEvents: 0,
      });
      const late = await call('POST', '/v1/orgs/calls/events', {
        events: [{ id: 'sep-2', member: 'zed', source: 'calls', occurredAt: '2026-09-10T11:00:00+02:00' }],
      });
      expect(late.json()).toEqual({ accepted: 1, duplicates: 0, late: 1 });
      const after = (await call('GET', '/v1/orgs/calls/statements/2026-09')).json();
      expect(statement.late).toEqual([]);
      expect(after).toEqual({
        ...statement,
        lateEvents: 1,
        late: [{ date: '2026-09-10', member: 'zed', source: 'calls', events: 1 }],
      });
      expect((await call('POST', '/v1/orgs/calls/months/2026-09/close')).json()).toEqual(after);
      const usage = (await call('GET', '/v1/orgs/calls/usage?month=2026-09')).json();
      expect(usage).toMatchObject({ closed: true, lateEvents: 1, billable: { numerator: 1 } });
      const open = await call('POST', '/v1/orgs/calls/months/2026-10/close');
      expect(open.statusCode).toBe(409);
      expect(open.json()).toMatchObject({ error: { code: 'month_not_ended' } });
    });

    it("checks an invite against the seats of the org's local today, a day ahead of UTC or behind it", async () => {
      const seatsOn = async (orgId: string, at: string) => {
        clock = Date.parse(at);
        try {
          const checked = await call('POST', `/v1/orgs/${orgId}/invites/check`, { email: 'x@y.example' });
          return (checked.json() as { seats: number }).seats;
        } finally {
          clock = NOW;
        }
      };
      const members = async (orgId: string, n: number, occurredAt: string) => {
        const sent = await call('POST', `/v1/orgs/${orgId}/events`, {
          events: Array.from({ length: n }, (_, i) => ({
            id: `${occurredAt}-${i}`,
            member: `m${i}`,
            source: 'app',
            occurredAt,
          })),
        });
        expect(sent.json()).toMatchObject({ accepted: n });
      };
      for (const [id, timezone] of [
        ['kiri', 'Pacific/Kiritimati'],
        ['la', 'America/Los_Angeles'],
      ]) {
        await call('POST', '/v1/orgs', { id, name: id, timezone, plan: tieredPlan(20) });
      }
      // UTC+14: at 12:00 UTC on the 20th it is the 21st there.
      await members('kiri', 1, '2026-10-20T10:00:00+14:00');
      await members('kiri', 3, '2026-10-21T01:00:00+14:00');
      expect(await seatsOn('kiri', '2026-10-20T12:00:00Z')).toBe(3);
      expect(await seatsOn('kiri', '2026-10-20T09:00:00Z')).toBe(1);
      // UTC-7: at 05:00 UTC on the 20th it is still the 19th there.
      await members('la', 2, '2026-10-19T20:00:00-07:00');
      await members('la', 4, '2026-10-20T04:00:00-07:00');
      expect(await seatsOn('la', '2026-10-20T05:00:00Z')).toBe(2);
      expect(await seatsOn('la', '2026-10-20T12:00:00Z')).toBe(4);
      expect(await seatsOn('la', '2026-10-21T05:00:00Z')).toBe(4);
    });

    it('decides invites ok, warning, breach and blocked, and refuses a blocked invite with 409', async () => {
      await call('POST', '/v1/orgs', { id: 'app', name: 'App', plan: tieredPlan(20), fairUseCap: 25 });
      const events = (n: number, tag: string) => ({
        events: Array.from({ length: n }, (_, i) => ({
          id: `${tag}${i}`,
          member: `${tag}${i}`,
          source: 'app',
          occurredAt: '2026-10-20T10:00:00Z',
        })),
      });
      const decide = async () =>
        (await call('POST', '/v1/orgs/app/invites/check', { email: 'new@app.example' })).json();
      expect(await decide()).toMatchObject({ decision: 'ok', seats: 0, after: 1, allowance: 20, percent: 5 });
      await call('POST', '/v1/orgs/app/events', events(18, 'a'));
      expect(await decide()).toMatchObject({ decision: 'warning', seats: 18, after: 19, percent: 95 });
      await call('POST', '/v1/orgs/app/events', events(2, 'b'));
      expect(await decide()).toMatchObject({ decision: 'breach', seats: 20, after: 21 });
      const invited = await call('POST', '/v1/orgs/app/invites', {
        email: 'Eve@App.example',
        projects: ['web'],
      });
      expect(invited.statusCode).toBe(201);
      expect(invited.json()).toMatchObject({
        member: { id: 'eve@app.example', status: 'invited' },
        check: { decision: 'breach' },
      });
      await call('POST', '/v1/orgs/app/events', events(4, 'c'));
      expect(await decide()).toMatchObject({ decision: 'blocked' });
      const refused = await call('POST', '/v1/orgs/app/invites', { email: 'late@app.example' });
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toMatchObject({ error: { code: 'fair_use_cap_reached' } });
      expect(await store.getMember('app', 'late@app.example')).toBeUndefined();
    });
  });
}
