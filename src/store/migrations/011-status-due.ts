import { type Kysely, type Migration, sql } from 'kysely';

/**
 * A member's status is the one in force now; a change recorded ahead of its `at` takes effect when
 * that moment comes. `members.status_due_at` holds the moment of the member's next change still to
 * come (null: none), and the background round settles the members whose moment has passed (by the
 * index, per org). Members with changes still to come are marked due at once: the first round puts
 * in force the status that holds now (until then they keep the status of their latest change).
 */
export const statusDue: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('members').addColumn('status_due_at', 'bigint').execute();
    await db.schema
      .createIndex('members_by_status_due')
      .on('members')
      .columns(['org_id', 'status_due_at'])
      .execute();
    // Due at once: the first round puts in force what holds now, and marks the next change.
    await sql`update members set status_due_at = 0 where exists (
        select 1 from status_changes s
        where s.org_id = members.org_id and s.member_id = members.member_id and s.at > ${Date.now()}
      )`.execute(db);
  },
};
