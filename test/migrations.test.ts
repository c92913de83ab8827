import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { monthCalendar } from '../src/core/calendar.js';
import { dailyCounts, statusSeats } from '../src/core/presence.js';
import type { Org } from '../src/core/types.js';
import { validateBatch } from '../src/ingest/validate-batch.js';
import { migrationProvider } from '../src/store/migrations/index.js';
import { openStore } from '../src/store/open-store.js';
import { makeOrg, tieredPlan } from './support/fixtures.js';
import { createDatabase, type PostgresServer, startPostgres } from './support/postgres.js';

/** Upgrading a database that has data: what a migration reshapes is carried over. */
const NOW = Date.parse('2026-09-15T10:00:00Z');

const dir = mkdtempSync(join(tmpdir(), 'seatmeter-migrations-'));
let server: PostgresServer | undefined;
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const databases: Array<[string, (name?: string) => Promise<{ url: string; kysely: Kysely<unknown> }>]> = [
  [
    'sqlite',
    async (name = 'upgrade') => {
      const path = join(dir, `${name}.db`);
      return {
        url: `sqlite:${path}`,
        kysely: new Kysely({ dialect: new SqliteDialect({ database: new SQLite(path) }) }),
      };
    },
  ],
  [
    'postgres',
    async (name = 'upgrade') => {
      server ??= await startPostgres();
      const url = await createDatabase(server.url, name);
      return {
        url,
        kysely: new Kysely({
          dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url }) }),
        }),
      };
    },
  ],
];

for (const [name, open] of databases) {
  describe(`migrations: ${name}`, () => {
    it('keeps the event ids stored before 008-event-ids: a re-sent event stays a duplicate', async () => {
      const { url, kysely } = await open();
      const { error } = await new Migrator({ db: kysely, provider: migrationProvider }).migrateTo(
        '007-active-invited',
      );
      expect(error).toBeUndefined();
      await sql`insert into events (org_id, event_id, member_id, source, occurred_at, day, project_id, late, received_at)
        values ('acme', 'old-1', 'ann', 'calls', ${NOW}, 20711, null, 0, ${NOW})`.execute(kysely);
      await kysely.destroy();

      const store = openStore(url);
      try {
        await store.migrate();
        const org = await store.createOrg(makeOrg(), NOW);
        const valid = validateBatch(
          [
            { id: 'old-1', member: 'ann', source: 'calls', occurredAt: '2026-09-15T09:00:00Z' },
            { id: 'new-1', member: 'ann', source: 'calls', occurredAt: '2026-09-15T09:05:00Z' },
          ],
          NOW,
        );
        if (!valid.ok) throw new Error('invalid batch');
        expect(await store.ingest(org, valid.events, NOW)).toEqual({ accepted: 1, duplicates: 1, late: 0 });
      } finally {
        await store.close();
      }
    }, 120_000);

    it('keeps the event ids stored before 013-event-ranges: re-sent ones stay duplicates', async () => {
      const { url, kysely } = await open('ranges');
      const { error } = await new Migrator({ db: kysely, provider: migrationProvider }).migrateTo(
        '012-late-activity',
      );
      expect(error).toBeUndefined();
      for (const [orgId, id] of [
        ['acme', 'n1'],
        ['acme', 'n3'],
        ['acme', 'n9'],
        ['other', 'n5'],
      ]) {
        await sql`insert into events (org_id, event_id) values (${orgId}, ${id})`.execute(kysely);
      }
      await kysely.destroy();

      const store = openStore(url);
      try {
        await store.migrate();
        const org = await store.createOrg(makeOrg(), NOW);
        const ingest = async (ids: string[]) => {
          const valid = validateBatch(
            ids.map((id) => ({ id, member: 'ann', source: 'calls', occurredAt: '2026-09-15T09:00:00Z' })),
            NOW,
          );
          if (!valid.ok) throw new Error('invalid batch');
          return store.ingest(org, valid.events, NOW);
        };
        // n2 and n5 lie among the old ids, n10 beyond them; n5 was another org's.
        expect(await ingest(['n3', 'n2', 'n10', 'n5'])).toEqual({ accepted: 3, duplicates: 1, late: 0 });
        expect(await ingest(['n9', 'n2', 'n11', 'n1', 'n10'])).toEqual({
          accepted: 1,
          duplicates: 4,
          late: 0,
        });
      } finally {
        await store.close();
      }
    }, 120_000);

    it('builds the status deltas of histories stored before 009-status-day-deltas', async () => {
      const { url, kysely } = await open('deltas');
      const { error } = await new Migrator({ db: kysely, provider: migrationProvider }).migrateTo(
        '008-event-ids',
      );
      expect(error).toBeUndefined();
      await sql`insert into orgs (org_id, name, timezone, presence, aggregation, plan, fair_use_cap,
          auto_close_days, billing_emails, webhook_url, webhook_secret, created_at, updated_at)
        values ('acme', 'Acme', 'Europe/Copenhagen', 'status', 'average', ${JSON.stringify(tieredPlan())}, null,
          3, '[]', null, null, ${NOW}, ${NOW})`.execute(kysely);
      const changes: Array<[string, number, number, string]> = [
        ['ann', Date.parse('2026-08-28T09:00:00Z'), 1, 'active'],
        ['ann', Date.parse('2026-09-10T22:00:00Z'), 2, 'revoked'],
        ['bob', Date.parse('2026-09-05T12:00:00Z'), 1, 'invited'],
        ['bob', Date.parse('2026-09-06T12:00:00Z'), 2, 'active'],
        ['bob', Date.parse('2026-09-06T12:00:00Z'), 3, 'revoked'],
        ['cyd', Date.parse('2026-09-20T08:00:00Z'), 1, 'active'],
      ];
      for (const member of ['ann', 'bob', 'cyd']) {
        await sql`insert into members (org_id, member_id, kind, status, created_at, updated_at)
          values ('acme', ${member}, 'person', null, ${NOW}, ${NOW})`.execute(kysely);
      }
      for (const [member, at, seq, status] of changes) {
        await sql`insert into status_changes (org_id, member_id, at, seq, status, recorded_at)
          values ('acme', ${member}, ${at}, ${seq}, ${status}, ${NOW})`.execute(kysely);
      }
      await kysely.destroy();

      const store = openStore(url);
      try {
        await store.migrate();
        const calendar = monthCalendar('2026-09', 'Europe/Copenhagen');
        const counts = await store.statusCounts('acme', calendar);
        expect(counts).toEqual(
          dailyCounts(
            statusSeats({ calendar, histories: await store.statusHistories('acme') }),
            calendar.days,
          ),
        );
        // ann on the 1st to the 11th (revoked at 00:00 local on the 11th), cyd from the 20th.
        expect(counts.slice(9, 12)).toEqual([1, 0, 0]);
        expect(counts.at(-1)).toBe(1);
      } finally {
        await store.close();
      }
    }, 120_000);

    it('keeps the member-days stored before 010-days-by-key; deactivation still moves them', async () => {
      const { url, kysely } = await open('days');
      const { error } = await new Migrator({ db: kysely, provider: migrationProvider }).migrateTo(
        '009-status-day-deltas',
      );
      expect(error).toBeUndefined();
      await sql`insert into orgs (org_id, name, timezone, presence, aggregation, plan, fair_use_cap,
          auto_close_days, billing_emails, webhook_url, webhook_secret, created_at, updated_at)
        values ('acme', 'Acme', 'UTC', 'activity', 'peak', ${JSON.stringify(tieredPlan())}, null,
          3, '[]', null, null, ${NOW}, ${NOW})`.execute(kysely);
      await sql`insert into members (org_id, member_id, kind, status, created_at, updated_at)
        values ('acme', 'ann', 'person', null, ${NOW}, ${NOW})`.execute(kysely);
      const first = monthCalendar('2026-09', 'UTC').firstDay;
      for (const day of [first + 2, first + 5]) {
        await sql`insert into activity_days (org_id, day, member_id, source, events)
          values ('acme', ${day}, 'ann', 'calls', 3), ('acme', ${day}, 'ann', 'deals', 1)`.execute(kysely);
        await sql`insert into member_days (org_id, day, member_id) values ('acme', ${day}, 'ann')`.execute(
          kysely,
        );
        await sql`insert into day_seats (org_id, day, seats) values ('acme', ${day}, 1)`.execute(kysely);
      }
      await kysely.destroy();

      const store = openStore(url);
      try {
        await store.migrate();
        const calendar = monthCalendar('2026-09', 'UTC');
        const seats = async () => (await store.activityCounts('acme', calendar)).slice(0, 7);
        expect(await seats()).toEqual([0, 0, 1, 0, 0, 1, 0]);
        expect((await store.activityRows('acme', calendar)).map((r) => r.events).sort()).toEqual([
          1, 1, 3, 3,
        ]);
        await store.appendStatus('acme', 'ann', 'deactivated', NOW, NOW);
        expect(await seats()).toEqual([0, 0, 0, 0, 0, 0, 0]);
        await store.appendStatus('acme', 'ann', 'active', NOW + 1, NOW + 1);
        expect(await seats()).toEqual([0, 0, 1, 0, 0, 1, 0]);
        const org = (await store.getOrg('acme')) as Org;
        const valid = validateBatch(
          [
            { id: 'n1', member: 'ann', source: 'calls', occurredAt: '2026-09-03T09:00:00Z' },
            { id: 'n2', member: 'ann', source: 'calls', occurredAt: '2026-09-07T09:00:00Z' },
          ],
          NOW,
        );
        if (!valid.ok) throw new Error('invalid batch');
        await store.ingest(org, valid.events, NOW);
        expect(await seats()).toEqual([0, 0, 1, 0, 0, 1, 1]);
      } finally {
        await store.close();
      }
    }, 120_000);

    it('puts in force after 011-status-due the status that holds now of a history with changes ahead', async () => {
      const { url, kysely } = await open('due');
      const { error } = await new Migrator({ db: kysely, provider: migrationProvider }).migrateTo(
        '010-days-by-key',
      );
      expect(error).toBeUndefined();
      const now = Date.now();
      await sql`insert into orgs (org_id, name, timezone, presence, aggregation, plan, fair_use_cap,
          auto_close_days, billing_emails, webhook_url, webhook_secret, created_at, updated_at, active_invited)
        values ('acme', 'Acme', 'UTC', 'status', 'average', ${JSON.stringify(tieredPlan())}, null,
          3, '[]', null, null, ${now}, ${now}, 0)`.execute(kysely);
      // Before 011 the member took the status of its latest change, even one still to come.
      await sql`insert into members (org_id, member_id, kind, status, created_at, updated_at)
        values ('acme', 'ann', 'person', 'revoked', ${now}, ${now})`.execute(kysely);
      await sql`insert into status_changes (org_id, member_id, at, seq, status, recorded_at)
        values ('acme', 'ann', ${now - 86_400_000}, 1, 'active', ${now}),
          ('acme', 'ann', ${now + 86_400_000}, 2, 'revoked', ${now})`.execute(kysely);
      await kysely.destroy();

      const store = openStore(url);
      try {
        await store.migrate();
        expect(await store.settleStatuses('acme', now)).toBe(1);
        expect((await store.getMember('acme', 'ann'))?.status).toBe('active');
        expect(await store.activeAndInvited('acme')).toBe(1);
        expect(await store.settleStatuses('acme', now + 86_400_000)).toBe(1);
        expect((await store.getMember('acme', 'ann'))?.status).toBe('revoked');
        expect(await store.activeAndInvited('acme')).toBe(0);
      } finally {
        await store.close();
      }
    }, 120_000);
  });
}
