import { type Kysely, type Migration, sql } from 'kysely';

/**
 * Each org's count of members whose current status is `active` or `invited` (the fair-use cap,
 * invite checks and every usage answer need it), kept up to date by status changes and by ingest
 * creating members, instead of counted at read time. Existing data is carried over.
 */
export const activeInvited: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('orgs')
      .addColumn('active_invited', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
    await sql`update orgs set active_invited = (
      select count(*) from members m where m.org_id = orgs.org_id and m.status in ('active', 'invited'))`.execute(
      db,
    );
  },
};
