import { type Kysely, type Migration, sql } from 'kysely';

/**
 * The daily counts of `activity` presence, kept up to date instead of counted at read time:
 *
 * - `member_days`: each (member, local day) with activity, once whatever the sources;
 * - `day_seats`: per day, the members of `member_days` whose current status is not `deactivated`.
 *
 * Ingest adds a seat for each member-day it creates; a status change into or out of `deactivated`
 * moves that member's days. The usage report then reads one row per day. Existing data is carried
 * over. Members also get an index by status, for the active + invited count.
 */
export const daySeats: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('member_days')
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('day', 'integer', (c) => c.notNull())
      .addColumn('member_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('member_days_pk', ['org_id', 'day', 'member_id'])
      .execute();
    await db.schema
      .createIndex('member_days_by_member')
      .on('member_days')
      .columns(['org_id', 'member_id', 'day'])
      .execute();
    // `activeAndInvited` (the cap, invite checks, every usage answer) counts from an index.
    await db.schema.createIndex('members_by_status').on('members').columns(['org_id', 'status']).execute();
    await db.schema
      .createTable('day_seats')
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('day', 'integer', (c) => c.notNull())
      .addColumn('seats', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('day_seats_pk', ['org_id', 'day'])
      .execute();
    await sql`insert into member_days (org_id, day, member_id)
      select distinct org_id, day, member_id from activity_days`.execute(db);
    await sql`insert into day_seats (org_id, day, seats)
      select d.org_id, d.day, count(*) from member_days d
      join members m on m.org_id = d.org_id and m.member_id = d.member_id
      where m.status is null or m.status <> 'deactivated'
      group by d.org_id, d.day`.execute(db);
  },
};
