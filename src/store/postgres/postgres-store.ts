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

// bigint columns hold epoch milliseconds and counts, all far below 2^53: read them as numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number.parseInt(v, 10));

/** PostgreSQL, for many stateless server instances on one database. */
export class PostgresStore extends KyselyStore {
  protected override readonly rowLocks = true;
  override readonly shared = true;

  protected override anyOf(column: string, values: readonly string[]): Expression<SqlBool> {
    return sql<SqlBool>`${sql.ref(column)} = any(${[...values]}::text[])`;
  }

  // Batches take the org's closing lock shared, a closing takes it exclusive, both until their
  // transaction ends: across every instance, a month is never frozen while a batch is under way.
  protected override async batchLock(trx: Transaction<Database>, orgId: string): Promise<void> {
    await sql`select pg_advisory_xact_lock_shared(hashtext(${`seatmeter:closing:${orgId}`}))`.execute(trx);
  }

  override async closingMonth<T>(orgId: string, close: () => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext(${`seatmeter:closing:${orgId}`}))`.execute(trx);
      return close();
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
