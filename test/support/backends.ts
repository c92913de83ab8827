import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { createDatabase, type PostgresServer, startPostgres } from './postgres.js';

/**
 * The databases every backend-neutral suite runs against: embedded SQLite on a real file and a real
 * PostgreSQL server that the suite starts itself; the storage contract also runs on SQLite in
 * memory (`memorySqliteBackend`).
 */
export interface Backend {
  name: string;
  /** A fresh, empty, migrated store. */
  open(): Promise<Store>;
  /** How others reach a store's database; undefined when only the store can (in memory). */
  shared?: SharedDatabase;
  teardown(): Promise<void>;
}

export interface SharedDatabase {
  /** The database URL a store from `open` was opened on, for another process to open. */
  urlOf(store: Store): string;
  /** Runs SQL on the store's database over a connection of its own, as another program would. */
  runSql(store: Store, statements: string): Promise<void>;
}

export function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'seatmeter-sqlite-'));
  const urls = new WeakMap<Store, string>();
  let n = 0;
  return {
    name: 'sqlite',
    async open() {
      const url = `sqlite:${join(dir, `contract-${n++}.db`)}`;
      const store = openStore(url);
      urls.set(store, url);
      await store.migrate();
      return store;
    },
    shared: {
      urlOf: (store) => urls.get(store) as string,
      async runSql(store, statements) {
        const db = new SQLite((urls.get(store) as string).slice('sqlite:'.length));
        try {
          db.exec(statements);
        } finally {
          db.close();
        }
      },
    },
    async teardown() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function postgresBackend(): Backend {
  let server: PostgresServer | undefined;
  const urls = new WeakMap<Store, string>();
  let n = 0;
  return {
    name: 'postgres',
    async open() {
      server ??= await startPostgres();
      const url = await createDatabase(server.url, `contract_${n++}`);
      const store = openStore(url);
      urls.set(store, url);
      await store.migrate();
      return store;
    },
    shared: {
      urlOf: (store) => urls.get(store) as string,
      async runSql(store, statements) {
        const client = new pg.Client({ connectionString: urls.get(store) as string });
        await client.connect();
        try {
          await client.query(statements);
        } finally {
          await client.end();
        }
      },
    },
    async teardown() {
      await server?.stop();
    },
  };
}

/**
 * SQLite in memory (`sqlite::memory:`): one connection, no reader beside it, so every read the
 * file-backed store prepares on its reader connection takes the writer's path here instead.
 */
export function memorySqliteBackend(): Backend {
  return {
    name: 'sqlite in memory',
    async open() {
      const store = openStore('sqlite::memory:');
      await store.migrate();
      return store;
    },
    async teardown() {},
  };
}

export const BACKENDS = [sqliteBackend, postgresBackend];
