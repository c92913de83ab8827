import { type Kysely, type Migration, PostgresAdapter, sql } from 'kysely';

/**
 * `events` keeps only what deduplication needs, each org's event ids: nothing reads the rest back
 * (the daily activity, member-days and seats hold the counts). Each event's insert then writes a
 * short key instead of a nine-column row, the hot path of ingest.
 *
 * On SQLite the table is `WITHOUT ROWID`, so the key is the row (one B-tree, not a table plus an
 * index); on PostgreSQL event ids compare by bytes (`COLLATE "C"`), cheaper than a locale's rules.
 * Existing ids are carried over.
 */
export const eventIds: Migration = {
  async up(db: Kysely<unknown>) {
    const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
    await sql`create table event_ids (
      org_id text not null,
      event_id text ${postgres ? sql`collate "C" ` : sql``}not null,
      constraint event_ids_pk primary key (org_id, event_id)
    )${postgres ? sql`` : sql` without rowid`}`.execute(db);
    await sql`insert into event_ids (org_id, event_id) select org_id, event_id from events`.execute(db);
    await db.schema.dropTable('events').execute();
    await db.schema.alterTable('event_ids').renameTo('events').execute();
  },
};
