import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { createDatabase, type PostgresServer, startPostgres } from './postgres.js';

/**
 * The databases every backend-neutral suite runs against: embedded SQLite on a real file and a real
 * PostgreSQL server that the suite starts itself.
 */
export interface Backend {
  name: string;
  /** A fresh, empty, migrated store. */
  open(): Promise<Store>;
  teardown(): Promise<void>;
}

export function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'seatmeter-sqlite-'));
  let n = 0;
  return {
    name: 'sqlite',
    async open() {
      const store = openStore(`sqlite:${join(dir, `contract-${n++}.db`)}`);
      await store.migrate();
      return store;
    },
    async teardown() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function postgresBackend(): Backend {
  let server: PostgresServer | undefined;
  let n = 0;
  return {
    name: 'postgres',
    async open() {
      server ??= await startPostgres();
      const store = openStore(await createDatabase(server.url, `contract_${n++}`));
      await store.migrate();
      return store;
    },
    async teardown() {
      await server?.stop();
    },
  };
}

export const BACKENDS = [sqliteBackend, postgresBackend];
