import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, type Transaction } from 'kysely';
import type { MonthCalendar } from '../../core/calendar.js';
import { KyselyStore } from '../kysely-store.js';
import type { Database } from '../schema.js';

/**
 * The embedded default: one SQLite file in WAL mode. `synchronous = FULL` makes every committed
 * batch durable before the call returns, also across a power cut.
 */
export class SqliteStore extends KyselyStore {
  private statements:
    | {
        insertEvent: SQLite.Statement;
        upsertActivity: SQLite.Statement;
        insertMemberDay: SQLite.Statement;
        daySeats: SQLite.Statement;
        monthFacts: SQLite.Statement;
      }
    | undefined;

  private constructor(
    db: Kysely<Database>,
    private readonly database: SQLite.Database,
    readonly path: string,
  ) {
    super(db);
  }

  /** Prepared on first use: the tables exist only once migrations have run. */
  private get prepared() {
    this.statements ??= {
      insertEvent: this.database.prepare(
        `INSERT INTO events (org_id, event_id, member_id, source, occurred_at, day, project_id, late, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, event_id) DO NOTHING`,
      ),
      upsertActivity: this.database.prepare(
        `INSERT INTO activity_days (org_id, day, member_id, source, events) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (org_id, day, member_id, source) DO UPDATE SET events = activity_days.events + excluded.events`,
      ),
      insertMemberDay: this.database.prepare(
        'INSERT INTO member_days (org_id, day, member_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      daySeats: this.database
        .prepare('SELECT day, seats FROM day_seats WHERE org_id = ? AND day >= ? AND day < ?')
        .raw(),
      monthFacts: this.database.prepare(
        `SELECT o.active_invited AS activeInvited,
           (SELECT events FROM late_events WHERE org_id = o.org_id AND month = ?) AS late,
           s.closed_at AS closedAt, s.body AS body
         FROM orgs o LEFT JOIN statements s ON s.org_id = o.org_id AND s.month = ?
         WHERE o.org_id = ?`,
      ),
    };
    return this.statements;
  }

  // The hot path, hand-tuned: prepared statements run synchronously on the connection that holds
  // Kysely's open transaction (SQLite has one connection here), so they commit or roll back with it.
  protected override async insertEvents(_trx: Transaction<Database>, rows: Database['events'][]) {
    const { insertEvent } = this.prepared;
    const inserted = new Set<string>();
    for (const r of rows) {
      const { changes } = insertEvent.run(
        r.org_id,
        r.event_id,
        r.member_id,
        r.source,
        r.occurred_at,
        r.day,
        r.project_id,
        r.late,
        r.received_at,
      );
      if (changes > 0) inserted.add(r.event_id);
    }
    return inserted;
  }

  protected override async addActivity(_trx: Transaction<Database>, rows: Database['activity_days'][]) {
    const { upsertActivity } = this.prepared;
    for (const r of rows) upsertActivity.run(r.org_id, r.day, r.member_id, r.source, r.events);
  }

  protected override async insertMemberDays(_trx: Transaction<Database>, rows: Database['member_days'][]) {
    const { insertMemberDay } = this.prepared;
    const fresh: Array<{ day: number; member_id: string }> = [];
    for (const r of rows) {
      if (insertMemberDay.run(r.org_id, r.day, r.member_id).changes > 0)
        fresh.push({ day: r.day, member_id: r.member_id });
    }
    return fresh;
  }

  /**
   * Runs `read` holding Kysely's connection, so a prepared read never sees a batch that another
   * request has half written in its open transaction.
   */
  private read<T>(read: () => T): Promise<T> {
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
    const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
    return new SqliteStore(kysely, database, path);
  }
}
