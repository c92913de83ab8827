import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { validateBatch } from '../src/ingest/validate-batch.js';
import { migrationProvider } from '../src/store/migrations/index.js';
import { openStore } from '../src/store/open-store.js';
import { makeOrg } from './support/fixtures.js';
import { createDatabase, type PostgresServer, startPostgres } from './support/postgres.js';

/** Upgrading a database that has data: what a migration reshapes is carried over. */
const NOW = Date.parse('2026-09-15T10:00:00Z');

const dir = mkdtempSync(join(tmpdir(), 'seatmeter-migrations-'));
let server: PostgresServer | undefined;
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const databases: Array<[string, () => Promise<{ url: string; kysely: Kysely<unknown> }>]> = [
  [
    'sqlite',
    async () => {
      const path = join(dir, 'upgrade.db');
      return {
        url: `sqlite:${path}`,
        kysely: new Kysely({ dialect: new SqliteDialect({ database: new SQLite(path) }) }),
      };
    },
  ],
  [
    'postgres',
    async () => {
      server ??= await startPostgres();
      const url = await createDatabase(server.url, 'upgrade');
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
  });
}
