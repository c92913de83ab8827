import { type Kysely, type Migration, PostgresAdapter, sql } from 'kysely';

/**
 * Events that arrive for a closed month are kept like counted ones, per (local day, member, source)
 * with their number, apart from the counted activity: they never change the month's statement,
 * and its answer lists them (`late`). `late_events` keeps the count per month, read by every usage
 * answer. Late events stored before this migration are counted only.
 */
export const lateActivity: Migration = {
  async up(db: Kysely<unknown>) {
    const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
    await sql`create table late_activity (
      org_id text not null,
      month text not null,
      day integer not null,
      member_id text ${postgres ? sql`collate "C" ` : sql``}not null,
      source text not null,
      events bigint not null,
      constraint late_activity_pk primary key (org_id, month, day, member_id, source)
    )${postgres ? sql`` : sql` without rowid`}`.execute(db);
  },
};
