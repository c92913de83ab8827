import { type Kysely, type Migration, sql } from 'kysely';
import { DayMapper } from '../../core/calendar.js';
import { statusDeltas } from '../../core/presence.js';
import type { MemberStatus, StatusChange } from '../../core/types.js';

/**
 * The daily counts of `status` presence, kept up to date instead of counted at read time.
 * `status_day_deltas` holds, per local day, how the number of members active at some instant of
 * the day changes from the day before: each member's runs of active days add one on their first
 * day and take one away after their last. A day's count is the sum of the deltas up to it, so the
 * usage report reads the sum before the month and one row per day of it. Status changes (and ingest
 * creating active persons) move the deltas; a change of the org's timezone rebuilds them. Existing
 * histories are carried over.
 */
export const statusDayDeltas: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('status_day_deltas')
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('day', 'integer', (c) => c.notNull())
      .addColumn('delta', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('status_day_deltas_pk', ['org_id', 'day'])
      .execute();
    const orgs = await sql<{ org_id: string; timezone: string }>`select org_id, timezone from orgs`.execute(
      db,
    );
    for (const { org_id, timezone } of orgs.rows) {
      const { rows } = await sql<{ member_id: string; status: MemberStatus; at: number | string }>`
        select member_id, status, at from status_changes where org_id = ${org_id}
        order by member_id, at, seq`.execute(db);
      const histories = new Map<string, StatusChange[]>();
      for (const r of rows) {
        const history = histories.get(r.member_id) ?? [];
        history.push({ status: r.status, at: Number(r.at) });
        histories.set(r.member_id, history);
      }
      const mapper = new DayMapper(timezone);
      const deltas = statusDeltas(
        [...histories.values()].map((changes) => ({ changes })),
        (ms) => mapper.epochDayOf(ms),
      );
      const values = [...deltas].filter(([, delta]) => delta !== 0).sort((a, b) => a[0] - b[0]);
      for (let i = 0; i < values.length; i += 500) {
        await db
          .insertInto('status_day_deltas' as never)
          .values(values.slice(i, i + 500).map(([day, delta]) => ({ org_id, day, delta })) as never)
          .execute();
      }
    }
  },
};
