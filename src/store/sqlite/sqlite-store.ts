import SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type Expression,
  Kysely,
  type SqlBool,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
  sql,
  type Transaction,
} from 'kysely';
import type { MonthCalendar } from '../../core/calendar.js';
import { NotFoundError } from '../../core/errors.js';
import { countsFromDeltas } from '../../core/presence.js';
import type { Org } from '../../core/types.js';
import type { AlertKind } from '../../core/usage-state.js';
import {
  batchRanges,
  beyondAscii,
  compareText,
  type IdRange,
  place,
  type Run,
  type StoredRange,
  splitRun,
} from '../id-ranges.js';
import { type BatchFacts, KyselyStore, orgFromRow, storedApiKey } from '../kysely-store.js';
import type { Database, OrgsTable } from '../schema.js';
import type { InviteView, Store, StoredApiKey } from '../store.js';
import { ReadSnapshots } from './read-snapshots.js';

/** How many of Kysely's statements are kept prepared (a store runs a few dozen distinct ones). */
const STATEMENT_CACHE = 512;

/**
 * The database as Kysely sees it, with its prepared statements kept by SQL text. Kysely prepares
 * each query it runs, and on a small query (an org, an API key) preparing costs more than running
 * it. A cached statement is never used by two queries at once: Kysely runs one query (or stream)
 * at a time on its one SQLite connection. Kysely runs each statement as soon as it is prepared, so
 * `beforeWrite` is called just before every statement that writes or begins or ends a transaction
 * (every write is in one).
 */
function cachingStatements(database: SQLite.Database, beforeWrite: () => void) {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string): SQLite.Statement {
      let statement = cache.get(sql);
      if (statement === undefined) {
        statement = database.prepare(sql);
        if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value as string);
        cache.set(sql, statement);
      }
      if (!statement.reader || !statement.readonly) beforeWrite();
      return statement;
    },
  };
}

/**
 * Kysely's SQLite dialect, with transactions that take the write lock when they begin (`BEGIN
 * IMMEDIATE`). A plain `BEGIN` reads first and asks for the lock at its first write: when another
 * process (`seatmeter import` beside `serve`, a second `serve`) has committed meanwhile, that fails
 * at once with "database is locked", whatever the busy timeout. Taking the lock first waits for the
 * other writer instead, up to the busy timeout.
 */
class WritingSqliteDialect extends SqliteDialect {
  constructor(private readonly config: SqliteDialectConfig) {
    super(config);
  }

  override createDriver(): Driver {
    return new (class extends SqliteDriver {
      override async beginTransaction(connection: DatabaseConnection): Promise<void> {
        await connection.executeQuery(CompiledQuery.raw('begin immediate'));
      }
    })(this.config);
  }
}

/**
 * The embedded default: one SQLite file in WAL mode. `synchronous = FULL` makes every committed
 * batch durable before the call returns, also across a power cut.
 */
export class SqliteStore extends KyselyStore {
  private statements:
    | {
        insertEventIds: SQLite.Statement;
        insertEventIdsNaming: SQLite.Statement;
        rangeAt: SQLite.Statement;
        rangeAfter: SQLite.Statement;
        insertRange: SQLite.Statement;
        unfoldRun: SQLite.Statement;
        clearRun: SQLite.Statement;
        runIds: SQLite.Statement;
        deleteRange: SQLite.Statement;
        upsertActivity: SQLite.Statement;
        insertMemberDays: SQLite.Statement;
        daySeats: SQLite.Statement;
        statusDeltas: SQLite.Statement;
        batchFacts: SQLite.Statement;
        org: SQLite.Statement;
        inviteView: SQLite.Statement;
        raisedAlertKinds: SQLite.Statement;
        apiKey: SQLite.Statement;
        monthFacts: SQLite.Statement;
      }
    | undefined;

  private constructor(
    db: Kysely<Database>,
    private readonly database: SQLite.Database,
    /**
     * A second connection for the prepared reads (the report, the org, the invite view, API keys,
     * raised alerts), in snapshots shared for a millisecond (`ReadSnapshots`). In WAL
     * mode it reads the last committed state while a batch is being written on the first, so its
     * reads need no lock and never see half a batch. None for an in-memory database, which a
     * second connection would not share: reads then take Kysely's connection.
     */
    private readonly reader: ReadSnapshots | undefined,
    readonly path: string,
  ) {
    super(db);
  }

  override async close(): Promise<void> {
    this.reader?.close();
    await super.close();
  }

  /**
   * Prepared on first use: the tables exist only once migrations have run. The ingest statements
   * take a whole batch as one JSON array (`json_each`): one call into SQLite per batch instead of
   * one per row.
   */
  private get prepared() {
    const reads = this.reader?.connection ?? this.database;
    const insertEventIds = `INSERT INTO events (org_id, event_id) SELECT ?, value FROM json_each(?) WHERE true
      ON CONFLICT (org_id, event_id) DO NOTHING`;
    this.statements ??= {
      insertEventIds: this.database.prepare(insertEventIds),
      insertEventIdsNaming: this.database.prepare(`${insertEventIds} RETURNING event_id`).pluck(),
      // The stored ranges around a key: the last that starts at or before it, the first after it.
      rangeAt: this.database.prepare(
        'SELECT rowid AS id, lo, hi FROM event_ranges WHERE org_id = ? AND lo <= ? ORDER BY lo DESC LIMIT 1',
      ),
      rangeAfter: this.database.prepare(
        'SELECT rowid AS id, lo, hi FROM event_ranges WHERE org_id = ? AND lo > ? ORDER BY lo LIMIT 1',
      ),
      insertRange: this.database.prepare(
        'INSERT INTO event_ranges (org_id, lo, hi, ids) VALUES (?, ?, ?, ?)',
      ),
      // The ids of a run become rows (none for a range without ids), and the range keeps its keys.
      unfoldRun: this.database.prepare(
        `INSERT OR IGNORE INTO events (org_id, event_id)
         SELECT r.org_id, j.value FROM event_ranges r, json_each(r.ids) j WHERE r.rowid = ?`,
      ),
      clearRun: this.database.prepare(
        'UPDATE event_ranges SET ids = NULL WHERE rowid = ? AND ids IS NOT NULL',
      ),
      runIds: this.database.prepare('SELECT ids FROM event_ranges WHERE rowid = ?').pluck(),
      deleteRange: this.database.prepare('DELETE FROM event_ranges WHERE rowid = ?'),
      upsertActivity: this.database.prepare(
        `INSERT INTO activity_days (org_id, day, member_id, source, events)
         SELECT ?, value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?) WHERE true
         ON CONFLICT (org_id, day, member_id, source) DO UPDATE SET events = activity_days.events + excluded.events`,
      ),
      insertMemberDays: this.database.prepare(
        `INSERT INTO member_days (org_id, day, member_id)
         SELECT ?, value ->> 0, value ->> 1 FROM json_each(?) WHERE true
         ON CONFLICT DO NOTHING RETURNING day, member_id`,
      ),
      daySeats: reads
        .prepare('SELECT day, seats FROM day_seats WHERE org_id = ? AND day >= ? AND day < ?')
        .raw(),
      statusDeltas: reads
        .prepare(
          `SELECT CASE WHEN day < ? THEN ? ELSE day END AS day, SUM(delta) AS delta FROM status_day_deltas
           WHERE org_id = ? AND day < ? GROUP BY 1`,
        )
        .raw(),
      batchFacts: this.database.prepare(
        `SELECT timezone, EXISTS (SELECT 1 FROM aliases WHERE org_id = o.org_id) AS hasAliases,
           (SELECT json_group_array(month) FROM statements WHERE org_id = o.org_id) AS closed
         FROM orgs o WHERE o.org_id = ?`,
      ),
      org: reads.prepare('SELECT * FROM orgs WHERE org_id = ?'),
      raisedAlertKinds: reads.prepare('SELECT kind FROM alerts WHERE org_id = ? AND month = ?').pluck(),
      apiKey: reads.prepare(
        'SELECT key_id, secret_hash, scopes FROM api_keys WHERE org_id = ? AND key_id = ?',
      ),
      inviteView: reads.prepare(
        `SELECT o.*,
           (SELECT seats FROM day_seats WHERE org_id = o.org_id AND day = ?) AS seats_before,
           (SELECT seats FROM day_seats WHERE org_id = o.org_id AND day = ?) AS seats_on,
           (SELECT seats FROM day_seats WHERE org_id = o.org_id AND day = ?) AS seats_after
         FROM orgs o WHERE o.org_id = ?`,
      ),
      monthFacts: reads.prepare(
        `SELECT o.active_invited AS activeInvited,
           (SELECT events FROM late_events WHERE org_id = o.org_id AND month = ?) AS late,
           s.closed_at AS closedAt, s.body AS body
         FROM orgs o LEFT JOIN statements s ON s.org_id = o.org_id AND s.month = ?
         WHERE o.org_id = ?`,
      ),
    };
    return this.statements;
  }

  /**
   * The in-process gate holds off this process's batches; another process on the same file (`seatmeter
   * import` beside `serve`) is held off by the write lock, taken for the whole closing: its batches
   * wait, and then find the month closed and store their events as late. Without it, a batch
   * committed between the closing's reads and its statement would be in neither. `close` runs on
   * a view of this store whose Kysely queries go to the closing's transaction; the prepared reads
   * go to the reader connection, which sees every commit, and no other writer can commit until the
   * closing does. In memory there is no other process, and the gate suffices.
   */
  override async closingMonth<T>(orgId: string, close: (store: Store) => Promise<T>): Promise<T> {
    if (this.reader === undefined) return super.closingMonth(orgId, close);
    return super.closingMonth(orgId, () => this.db.transaction().execute((trx) => close(this.boundTo(trx))));
  }

  protected override anyOf(column: string, values: readonly string[]): Expression<SqlBool> {
    return sql<SqlBool>`${sql.ref(column)} in (select value from json_each(${JSON.stringify(values)}))`;
  }

  // The hot path, hand-tuned: prepared statements run synchronously on the connection that holds
  // Kysely's open transaction (SQLite has one connection here), so they commit or roll back with it.
  protected override async insertEvents(
    _trx: Transaction<Database>,
    orgId: string,
    ids: readonly string[],
    ends: readonly number[],
  ) {
    if (ids.length === 0) return undefined;
    const { rangeAt, rangeAfter, insertRange, unfoldRun, clearRun } = this.prepared;
    const batches = ends.length === 1 ? [ids] : ends.map((end, i) => ids.slice(ends[i - 1] ?? 0, end));
    const lists = batches.map((batch) => JSON.stringify(batch));
    const ascii = !lists.some(beyondAscii);
    // Usually each batch's ids are new, of one length, none repeats and they lie beyond every
    // earlier batch's: each batch is stored as one run, one row (migration 013). The ranges are
    // disjoint, so only the last one starting at or below a batch's greatest key can meet it.
    const ranges = batchRanges(batches, ascii);
    const clear = (range: IdRange) => {
      const below = rangeAt.get(orgId, range.hi) as StoredRange | undefined;
      return below === undefined || compareText(below.hi, range.lo) < 0;
    };
    if (ranges?.every(clear)) {
      for (const range of ranges) insertRange.run(orgId, range.lo, range.hi, lists[range.batch]);
      return undefined;
    }
    const placed = place(ids, ascii, (key) => ({
      at: rangeAt.get(orgId, key) as StoredRange | undefined,
      next: rangeAfter.get(orgId, key) as StoredRange | undefined,
    }));
    const inRanges: string[] = [];
    for (const { range: stored, ids: within } of placed.hits) {
      if (this.splitStored(orgId, stored, within, ascii)) continue;
      unfoldRun.run(stored.id);
      clearRun.run(stored.id);
      inRanges.push(...within);
    }
    this.insertRuns(orgId, placed.runs);
    const known = inRanges.length > 0 ? this.insertRows(orgId, inRanges) : undefined;
    return known ?? (placed.repeats ? new Set<string>() : undefined);
  }

  /** Stores runs, each one row. */
  private insertRuns(orgId: string, runs: readonly Run[]): void {
    for (const run of runs) this.prepared.insertRange.run(orgId, run.lo, run.hi, JSON.stringify(run.ids));
  }

  /**
   * When the ids that fell inside a stored run are all new to it, the run is split around them
   * (`splitRun`) and true is answered; else (a range of rows, a re-sent id, ids that interleave
   * with the run's) nothing is written and false is answered.
   */
  private splitStored(
    orgId: string,
    stored: StoredRange,
    within: readonly string[],
    ascii: boolean,
  ): boolean {
    const { runIds, deleteRange } = this.prepared;
    const list = runIds.get(stored.id) as string | null;
    // A re-sent batch (the usual reason to land in a run) shows at its first id, found in the
    // run's JSON without parsing it; a false match only means the run goes to rows.
    if (list === null || list.includes(JSON.stringify(within[0]))) return false;
    const pieces = splitRun(JSON.parse(list) as string[], within, ascii && !beyondAscii(list));
    if (pieces === undefined) return false;
    deleteRange.run(stored.id);
    this.insertRuns(orgId, pieces);
    return true;
  }

  /**
   * Stores ids as `events` rows, checked there one by one. Answers nothing when every id was new
   * and none repeated (counting the rows written says so), else the ids the org had before: the
   * insert is then undone and made again, naming the ids it writes.
   */
  private insertRows(orgId: string, ids: readonly string[]): Set<string> | undefined {
    const { insertEventIds, insertEventIdsNaming } = this.prepared;
    const list = JSON.stringify(ids);
    this.database.exec('SAVEPOINT event_ids');
    try {
      if (insertEventIds.run(orgId, list).changes === ids.length) return undefined;
      this.database.exec('ROLLBACK TO event_ids');
      const fresh = new Set(insertEventIdsNaming.all(orgId, list) as string[]);
      return new Set(ids.filter((id) => !fresh.has(id)));
    } finally {
      this.database.exec('RELEASE event_ids');
    }
  }

  // The first read of every group of batches: one statement instead of two. Prepared on the
  // writer connection, it runs inside the transaction Kysely holds open there (`trx`).
  protected override async batchFacts(_trx: Transaction<Database>, orgId: string): Promise<BatchFacts> {
    const row = this.prepared.batchFacts.get(orgId) as
      | { timezone: string; hasAliases: number; closed: string }
      | undefined;
    if (row === undefined) throw new NotFoundError('org', orgId);
    return {
      timezone: row.timezone,
      closed: new Set(JSON.parse(row.closed) as string[]),
      hasAliases: row.hasAliases === 1,
    };
  }

  protected override async addActivity(_trx: Transaction<Database>, rows: Database['activity_days'][]) {
    if (rows.length === 0) return;
    const orgId = (rows[0] as Database['activity_days']).org_id;
    this.prepared.upsertActivity.run(
      orgId,
      JSON.stringify(rows.map((r) => [r.day, r.member_id, r.source, r.events])),
    );
  }

  protected override async insertMemberDays(_trx: Transaction<Database>, rows: Database['member_days'][]) {
    if (rows.length === 0) return [];
    const orgId = (rows[0] as Database['member_days']).org_id;
    return this.prepared.insertMemberDays.all(
      orgId,
      JSON.stringify(rows.map((r) => [r.day, r.member_id])),
    ) as Array<{ day: number; member_id: string }>;
  }

  /**
   * Runs a prepared read: on the reader connection in its current snapshot, or (in memory)
   * holding Kysely's connection, so that it never sees a batch another request has half written in
   * its open transaction.
   */
  private async read<T>(read: () => T): Promise<T> {
    if (this.reader !== undefined) return this.reader.read(read);
    return this.db.connection().execute(async () => read());
  }

  // The usage report's reads, prepared once: the report answers in a fraction of a millisecond.
  override async activityCounts(orgId: string, calendar: MonthCalendar): Promise<number[]> {
    const { firstDay, days } = calendar;
    const rows = await this.read(
      () => this.prepared.daySeats.all(orgId, firstDay, firstDay + days) as Array<[number, number]>,
    );
    const counts = new Array<number>(days).fill(0);
    for (const [day, seats] of rows) counts[day - firstDay] = seats;
    return counts;
  }

  override async statusCounts(orgId: string, calendar: MonthCalendar): Promise<number[]> {
    const { firstDay, days } = calendar;
    const rows = await this.read(
      () =>
        this.prepared.statusDeltas.all(firstDay, firstDay - 1, orgId, firstDay + days) as Array<
          [number, number]
        >,
    );
    return countsFromDeltas(rows, firstDay, days);
  }

  // Every org request reads its org, and the invite check runs on every invite screen: prepared.
  override async getOrg(orgId: string): Promise<Org | undefined> {
    const row = (await this.read(() => this.prepared.org.get(orgId))) as OrgsTable | undefined;
    return row ? orgFromRow(row) : undefined;
  }

  // The invite check runs on every invite screen: one prepared read for the org and its facts.
  override async inviteView(orgId: string, day: number): Promise<InviteView | undefined> {
    const row = (await this.read(() => this.prepared.inviteView.get(day - 1, day, day + 1, orgId))) as
      | (OrgsTable & {
          active_invited: number;
          seats_before: number | null;
          seats_on: number | null;
          seats_after: number | null;
        })
      | undefined;
    if (row === undefined) return undefined;
    return {
      org: orgFromRow(row),
      seatsAround: [row.seats_before ?? 0, row.seats_on ?? 0, row.seats_after ?? 0],
      activeAndInvited: row.active_invited,
    };
  }

  // Every request with an org key reads its key.
  override async getApiKey(orgId: string, keyId: string): Promise<StoredApiKey | undefined> {
    const row = (await this.read(() => this.prepared.apiKey.get(orgId, keyId))) as
      | { key_id: string; secret_hash: string; scopes: string }
      | undefined;
    return row === undefined ? undefined : storedApiKey(row);
  }

  // Read after every change that can raise an alert (events, status changes, invites, plans).
  // A stale answer costs only work: raising an alert twice stores it once.
  override async raisedAlertKinds(orgId: string, month: string): Promise<AlertKind[]> {
    return (await this.read(() => this.prepared.raisedAlertKinds.all(orgId, month))) as AlertKind[];
  }

  override async monthFacts(orgId: string, month: string) {
    const row = (await this.read(() => this.prepared.monthFacts.get(month, month, orgId))) as
      | { activeInvited: number; late: number | null; closedAt: number | null; body: string | null }
      | undefined;
    return {
      activeAndInvited: row?.activeInvited ?? 0,
      lateEvents: row?.late ?? 0,
      statement:
        row?.body === null || row?.body === undefined
          ? undefined
          : { month, closedAt: Number(row.closedAt), body: JSON.parse(row.body) as unknown },
    };
  }

  static open(path: string): SqliteStore {
    const database = new SQLite(path);
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = FULL');
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 5000');
    let reader: ReadSnapshots | undefined;
    if (path !== ':memory:') {
      const connection = new SQLite(path);
      connection.pragma('busy_timeout = 5000');
      reader = new ReadSnapshots(connection);
    }
    const kysely = new Kysely<Database>({
      dialect: new WritingSqliteDialect({
        database: cachingStatements(database, () => reader?.end()),
      }),
    });
    return new SqliteStore(kysely, database, reader, path);
  }
}
