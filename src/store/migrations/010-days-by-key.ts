import { type Kysely, type Migration, PostgresAdapter, sql } from 'kysely';

/**
 * Fewer B-trees written per new member-day, the cost of ingest for orgs with many members:
 *
 * - `member_days` loses its index by member: a member's days are the days of its `activity_days`
 *   rows (both are written together, from the same activity), which `activity_days_by_member`
 *   finds. A change into or out of `deactivated` reads them there.
 * - On SQLite `member_days` becomes `WITHOUT ROWID`, as `events` did (migration 008): the key is
 *   the row, so a new member-day is one B-tree insert instead of three (the row, its key, its
 *   member index). `activity_days` stays a table with rowids: its by-member index then finds a
 *   row's count in one step, which the members list reads for every member.
 *
 * Existing rows are carried over.
 */
export const daysByKey: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.dropIndex('member_days_by_member').execute();
    if (db.getExecutor().adapter instanceof PostgresAdapter) return;
    await sql`create table member_days_by_key (
      org_id text not null,
      day integer not null,
      member_id text not null,
      constraint member_days_pk primary key (org_id, day, member_id)
    ) without rowid`.execute(db);
    await sql`insert into member_days_by_key select org_id, day, member_id from member_days`.execute(db);
    await db.schema.dropTable('member_days').execute();
    await db.schema.alterTable('member_days_by_key').renameTo('member_days').execute();
  },
};
