import {
  type Expression,
  Kysely,
  type LogEvent,
  PostgresDialect,
  type SqlBool,
  sql,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import { KyselyStore } from '../kysely-store.js';
import type { Database } from '../schema.js';
import type { Store } from '../store.js';

// bigint columns hold epoch milliseconds and counts, all far below 2^53: read them as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number.parseInt(v, 10));

/** PostgreSQL, for many stateless server instances on one database. */
export class PostgresStore extends KyselyStore {
  protected override readonly rowLocks = true;
  override readonly shared = true;
  protected override readonly groupsBatches = false;

  protected override anyOf(column: string, values: readonly string[]): Expression<SqlBool> {
    return sql<SqlBool>`${sql.ref(column)} = any(${[...values]}::text[])`;
  }

  // The hot path of ingest: each table's rows go in one statement, as arrays (`unnest`) with the
  // org as one bound value, in key order (the ORDER BY), so concurrent batches from other
  // instances that overlap wait on each other instead of deadlocking.

  protected override async insertEvents(trx: Transaction<Database>, orgId: string, ids: readonly string[]) {
    const distinct = [...new Set(ids)];
    const { rows } = await sql<{ event_id: string }>`insert into "events" ("org_id", "event_id")
      select ${orgId}, id from unnest(${distinct}::text[]) as t(id) order by id collate "C"
      on conflict do nothing returning event_id`.execute(trx);
    if (rows.length === ids.length) return undefined;
    const inserted = new Set(rows.map((r) => r.event_id));
    return new Set(distinct.filter((id) => !inserted.has(id)));
  }

  protected override async addActivity(trx: Transaction<Database>, rows: Database['activity_days'][]) {
    if (rows.length === 0) return;
    await sql`insert into "activity_days" ("org_id", "day", "member_id", "source", "events")
      select ${(rows[0] as Database['activity_days']).org_id}, day, member_id, source, events
      from unnest(${rows.map((r) => r.day)}::int[], ${rows.map((r) => r.member_id)}::text[],
        ${rows.map((r) => r.source)}::text[], ${rows.map((r) => r.events)}::bigint[]) as t(day, member_id, source, events)
      order by day, member_id collate "C", source collate "C"
      on conflict (org_id, day, member_id, source) do update set events = activity_days.events + excluded.events`.execute(
      trx,
    );
  }

  protected override async insertMemberDays(trx: Transaction<Database>, rows: Database['member_days'][]) {
    if (rows.length === 0) return [];
    const { rows: fresh } = await sql<{
      day: number;
      member_id: string;
    }>`insert into "member_days" ("org_id", "day", "member_id")
      select ${(rows[0] as Database['member_days']).org_id}, day, member_id
      from unnest(${rows.map((r) => r.day)}::int[], ${rows.map((r) => r.member_id)}::text[]) as t(day, member_id)
      order by day, member_id collate "C"
      on conflict do nothing returning day, member_id`.execute(trx);
    return fresh.map((f) => ({ day: Number(f.day), member_id: f.member_id }));
  }

  // Batches take the org's closing lock shared, a closing takes it exclusive, both until their
  // transaction ends: across every instance, a month is never frozen while a batch is under way.
  protected override async batchLock(trx: Transaction<Database>, orgId: string): Promise<void> {
    await sql`select pg_advisory_xact_lock_shared(hashtext(${`seatmeter:closing:${orgId}`}))`.execute(trx);
  }

  // One invite of an org at a time, across every instance: the cap check and the new member are
  // one step.
  protected override async inviteLock(trx: Transaction<Database>, orgId: string): Promise<void> {
    await sql`select pg_advisory_xact_lock(hashtext(${`seatmeter:invite:${orgId}`}))`.execute(trx);
  }

  // A change of the org's timezone takes the same lock exclusive, like a closing.
  protected override async orgLock(trx: Transaction<Database>, orgId: string): Promise<void> {
    await sql`select pg_advisory_xact_lock(hashtext(${`seatmeter:closing:${orgId}`}))`.execute(trx);
  }

  // The closing reads and saves on its own transaction's connection: batches waiting for the lock
  // may hold every other connection of the pool, and a closing that needed one more would wait
  // for them while they wait for it.
  override async closingMonth<T>(orgId: string, close: (store: Store) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      await this.orgLock(trx, orgId);
      return close(this.boundTo(trx));
    });
  }

  /** A transaction-scoped advisory lock: released when the job ends, or when its connection dies. */
  override async exclusively(name: string, job: () => Promise<void>): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{
        ok: boolean;
      }>`select pg_try_advisory_xact_lock(hashtext(${name})) as ok`.execute(trx);
      if (!rows[0]?.ok) return false;
      await job();
      return true;
    });
  }

  private constructor(db: Kysely<Database>) {
    super(db);
  }

  static open(
    url: string,
    options: { maxConnections?: number; onQuery?: (sql: string) => void } = {},
  ): PostgresStore {
    const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 10 });
    // An idle client whose server went away (restart, failover) is dropped from the pool and
    // replaced on next use; without a listener the error would crash the process.
    pool.on('error', () => {});
    const onQuery = options.onQuery;
    return new PostgresStore(
      new Kysely<Database>({
        dialect: new PostgresDialect({ pool }),
        ...(onQuery
          ? {
              log: (event: LogEvent) => {
                if (event.level === 'query') onQuery(event.query.sql);
              },
            }
          : {}),
      }),
    );
  }
}
