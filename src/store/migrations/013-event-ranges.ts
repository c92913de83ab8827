import { type Kysely, type Migration, PostgresAdapter, sql } from 'kysely';

/**
 * On SQLite a batch's event ids are stored as one run when no earlier batch's ids lie in their
 * range (`id-ranges.ts`), instead of one `events` row each: writing the id B-tree was half the
 * time of ingest. `event_ranges` holds the org's ranges, pairwise disjoint: a run keeps its ids
 * (`ids`, a JSON array), and a range without `ids` covers ids that are rows of `events`. Every id
 * an org has lies in exactly one range. A batch's ids that lie in gaps become runs; ids that lie
 * in a run and are all new to it may split it; other ids that lie in stored ranges go to `events`,
 * checked there, and a run they land in moves its ids there too (its range stays, without ids).
 * `id-ranges.ts` and `SqliteStore.insertEvents` say how.
 *
 * The ids stored before this migration become one range per org, from its least id to its
 * greatest. PostgreSQL keeps one `events` row per id.
 */
export const eventRanges: Migration = {
  async up(db: Kysely<unknown>) {
    if (db.getExecutor().adapter instanceof PostgresAdapter) return;
    await sql`create table event_ranges (
      org_id text not null,
      lo text not null,
      hi text not null,
      ids text
    )`.execute(db);
    await sql`create index event_ranges_by_lo on event_ranges (org_id, lo, hi)`.execute(db);
    await sql`insert into event_ranges (org_id, lo, hi, ids)
      select org_id, min(k), max(k), null
      from (select org_id, printf('%03d', length(cast(event_id as blob))) || event_id as k from events)
      group by org_id`.execute(db);
  },
};
