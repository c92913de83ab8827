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
  throw new Error(`unsupported database URL '${redactedUrl(url)}': use sqlite:PATH or postgres://...`);
}

/**
 * The URL with its password masked, for messages and logs: `postgres://app:***@db/seatmeter`, also
 * a `password` query parameter. A `sqlite:` path is shown as it is.
 */
export function redactedUrl(url: string): string {
  if (url.startsWith('sqlite:')) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    for (const key of [...parsed.searchParams.keys()]) {
      if (/pass/i.test(key)) parsed.searchParams.set(key, '***');
    }
    return parsed.toString();
  } catch {
    // Not a URL at all: whatever stands before an @ may be credentials.
    return url.replace(/\/\/.*@/, '//***@');
  }
}
