import { type Kysely, type Migration, PostgresAdapter, sql } from 'kysely';

/** Tables with a member id, which the members list pages through in id order. */
const MEMBER_ID_TABLES = [
  'members',
  'member_projects',
  'member_teams',
  'aliases',
  'status_changes',
  'activity_days',
] as const;

/**
 * Member ids in byte order, read a page at a time.
 *
 * - An `activity_days (org_id, member_id, day)` index, so a page of members reads its own activity
 *   without scanning the whole month per page. Ingest mostly updates existing rows' counts, which
 *   leaves the index untouched.
 * - On PostgreSQL, member ids compare by bytes (`COLLATE "C"`), as on SQLite and in JavaScript,
 *   whatever the database's locale: a page cursor compared in the service then means the same as
 *   the database's `ORDER BY member_id`.
 */
export const activityByMember: Migration = {
  async up(db: Kysely<unknown>) {
    if (db.getExecutor().adapter instanceof PostgresAdapter) {
      for (const table of MEMBER_ID_TABLES) {
        await sql`alter table ${sql.table(table)} alter column member_id type text collate "C"`.execute(db);
      }
    }
    await db.schema
      .createIndex('activity_days_by_member')
      .on('activity_days')
      .columns(['org_id', 'member_id', 'day'])
      .execute();
  },
};
