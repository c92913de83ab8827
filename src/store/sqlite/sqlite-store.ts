import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { KyselyStore } from '../kysely-store.js';
import type { Database } from '../schema.js';

/**
 * The embedded default: one SQLite file in WAL mode. `synchronous = FULL` makes every committed
 * batch durable before the call returns, also across a power cut.
 */
export class SqliteStore extends KyselyStore {
  private constructor(
    db: Kysely<Database>,
    readonly path: string,
  ) {
    super(db);
  }

  static open(path: string): SqliteStore {
    const database = new SQLite(path);
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = FULL');
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 5000');
    return new SqliteStore(new Kysely<Database>({ dialect: new SqliteDialect({ database }) }), path);
  }
}
