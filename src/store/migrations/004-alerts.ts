import type { Kysely, Migration } from 'kysely';

/**
 * Alerts and their outbox.
 *
 * - `alerts`: at most one per org, month and kind, guaranteed by the unique key, so instances that
 *   cross a threshold at the same moment raise one alert between them.
 * - `deliveries`: one row per e-mail recipient and webhook of an alert, written in the alert's
 *   transaction; an instance claims due rows for a while (`claim_token`, `claimed_until`) so no two
 *   send the same one, and a claim left by a crashed instance runs out.
 * - `delivery_attempts`: every attempt, with its outcome.
 */
export const alerts: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('alerts')
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('alert_id', 'text', (c) => c.notNull())
      .addColumn('month', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      // The figure that crossed the threshold, exactly: {"numerator","denominator"}.
      .addColumn('figure', 'text', (c) => c.notNull())
      .addColumn('allowance', 'bigint')
      .addColumn('message', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('alerts_pk', ['org_id', 'alert_id'])
      .addUniqueConstraint('alerts_once', ['org_id', 'month', 'kind'])
      .execute();

    await db.schema
      .createTable('deliveries')
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('delivery_id', 'text', (c) => c.notNull())
      .addColumn('alert_id', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('target', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('last_error', 'text')
      .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
      .addColumn('claim_token', 'text')
      .addColumn('claimed_until', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('deliveries_pk', ['org_id', 'delivery_id'])
      .execute();
    // The outbox worker's scan: pending rows by due time, across orgs (a background job, not a
    // request, so it is the one query not scoped to an org).
    await db.schema
      .createIndex('deliveries_due')
      .on('deliveries')
      .columns(['status', 'next_attempt_at'])
      .execute();

    await db.schema
      .createTable('delivery_attempts')
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('delivery_id', 'text', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('ok', 'integer', (c) => c.notNull())
      .addColumn('error', 'text')
      .addPrimaryKeyConstraint('delivery_attempts_pk', ['org_id', 'delivery_id', 'attempt'])
      .execute();
  },
};
