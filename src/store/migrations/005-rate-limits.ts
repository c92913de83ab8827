import { type Kysely, type Migration, PostgresAdapter, sql } from 'kysely';

/**
 * Request counts per API key and time window, shared by every server instance on one PostgreSQL.
 * Keyed by org first like every table (`-` for the operator and for callers without a valid key);
 * the bucket is a hash of the key, never the key. On PostgreSQL the table is UNLOGGED: counts are
 * not worth a WAL flush and may be lost in a crash, which only resets budgets.
 */
export const rateLimits: Migration = {
  async up(db: Kysely<unknown>) {
    if (db.getExecutor().adapter instanceof PostgresAdapter) {
      await sql`create unlogged table rate_limits (
        org_id text not null,
        bucket text not null,
        window_start bigint not null,
        hits bigint not null,
        constraint rate_limits_pk primary key (org_id, bucket, window_start)
      )`.execute(db);
      return;
    }
    await db.schema
      .createTable('rate_limits')
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('bucket', 'text', (c) => c.notNull())
      .addColumn('window_start', 'bigint', (c) => c.notNull())
      .addColumn('hits', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('rate_limits_pk', ['org_id', 'bucket', 'window_start'])
      .execute();
  },
};
