import type { Kysely, Migration } from 'kysely';

/**
 * The first schema. Every table is keyed by `org_id` first and every query names one org, so the
 * schema distributes by org (distribution column `org_id`, all tables colocated) without a
 * redesign. Instants are epoch milliseconds (bigint); days are epoch days of the org's local date.
 */
export const initial: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('orgs')
      .addColumn('org_id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('timezone', 'text', (c) => c.notNull())
      .addColumn('presence', 'text', (c) => c.notNull())
      .addColumn('aggregation', 'text', (c) => c.notNull())
      .addColumn('plan', 'text', (c) => c.notNull())
      .addColumn('fair_use_cap', 'bigint')
      .addColumn('auto_close_days', 'integer', (c) => c.notNull())
      .addColumn('billing_emails', 'text', (c) => c.notNull())
      .addColumn('webhook_url', 'text')
      .addColumn('webhook_secret', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();

    for (const table of ['projects', 'teams'] as const) {
      const id = table === 'projects' ? 'project_id' : 'team_id';
      await db.schema
        .createTable(table)
        .addColumn('org_id', 'text', (c) => c.notNull())
        .addColumn(id, 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint(`${table}_pk`, ['org_id', id])
        .execute();
    }

    await db.schema
      .createTable('members')
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('member_id', 'text', (c) => c.notNull())
      .addColumn('email', 'text')
      .addColumn('email_lower', 'text')
      .addColumn('name', 'text')
      .addColumn('kind', 'text', (c) => c.notNull())
      // The status in force after the latest change of the history (null: no status yet).
      .addColumn('status', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('members_pk', ['org_id', 'member_id'])
      .execute();
    await db.schema
      .createIndex('members_email_unique')
      .on('members')
      .columns(['org_id', 'email_lower'])
      .unique()
      .execute();

    await db.schema
      .createTable('member_projects')
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('member_id', 'text', (c) => c.notNull())
      .addColumn('project_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('member_projects_pk', ['org_id', 'member_id', 'project_id'])
      .execute();
    await db.schema
      .createTable('member_teams')
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('member_id', 'text', (c) => c.notNull())
      .addColumn('team_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('member_teams_pk', ['org_id', 'member_id', 'team_id'])
      .execute();
    await db.schema
      .createTable('aliases')
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('external_id', 'text', (c) => c.notNull())
      .addColumn('member_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('aliases_pk', ['org_id', 'source', 'external_id'])
      .execute();

    await db.schema
      .createIndex('aliases_by_external_id')
      .on('aliases')
      .columns(['org_id', 'external_id'])
      .execute();

    await db.schema
      .createTable('status_changes')
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('member_id', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      // Order of recording: among changes at one instant, the last recorded wins.
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('recorded_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('status_changes_pk', ['org_id', 'member_id', 'at', 'seq'])
      .execute();

    await db.schema
      .createTable('events')
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('member_id', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('occurred_at', 'bigint', (c) => c.notNull())
      .addColumn('day', 'integer', (c) => c.notNull())
      .addColumn('project_id', 'text')
      .addColumn('late', 'integer', (c) => c.notNull())
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('events_pk', ['org_id', 'event_id'])
      .execute();

    // The derived table that makes daily counts cheap: one row per member, local day and source
    // with the number of events, however many events there are.
    await db.schema
      .createTable('activity_days')
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('day', 'integer', (c) => c.notNull())
      .addColumn('member_id', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('events', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('activity_days_pk', ['org_id', 'day', 'member_id', 'source'])
      .execute();

    await db.schema
      .createTable('late_events')
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('month', 'text', (c) => c.notNull())
      .addColumn('events', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('late_events_pk', ['org_id', 'month'])
      .execute();

    await db.schema
      .createTable('statements')
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('month', 'text', (c) => c.notNull())
      .addColumn('closed_at', 'bigint', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('statements_pk', ['org_id', 'month'])
      .execute();
  },
};
