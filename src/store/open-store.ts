import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

export const DEFAULT_DB = 'sqlite:./seatmeter.db';

/**
 * Opens the store a database URL names: `sqlite:PATH` (the embedded default) or `postgres://...`.
 *
 * @example
 * const store = openStore('sqlite:./seatmeter.db');
 */
export function openStore(url: string = DEFAULT_DB): Store {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path.length === 0) throw new Error('sqlite: URL needs a file path, e.g. sqlite:./seatmeter.db');
    return SqliteStore.open(path);
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return PostgresStore.open(url);
  throw new Error(`unsupported database URL '${url}': use sqlite:PATH or postgres://...`);
}

/** The URL with its password masked, for messages and logs: `postgres://app:***@db/seatmeter`. */
export function redactedUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*):[^@/]*@/, '$1:***@');
}
