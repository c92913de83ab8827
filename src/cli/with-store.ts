import { existsSync } from 'node:fs';
import { isMonth } from '../core/calendar.js';
import { NotFoundError } from '../core/errors.js';
import type { Org } from '../core/types.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';

/** Runs `fn` with a migrated store, closing it afterwards whatever happens. */
export async function withStore<T>(db: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = openStore(db);
  try {
    await store.migrate();
    return await fn(store);
  } finally {
    await store.close();
  }
}

/**
 * Fails when `db` names a SQLite file that does not exist: a command that reads an org (report,
 * close, import) would otherwise create an empty database only to say the org is not there.
 */
export function requireDatabase(db: string): void {
  if (!db.startsWith('sqlite:')) return;
  const path = db.slice('sqlite:'.length);
  if (path !== '' && path !== ':memory:' && !existsSync(path)) {
    throw new Error(`no database at ${path}: create it with seatmeter migrate, serve or demo`);
  }
}

/** Runs `fn` with a migrated store and the org `orgId`, or fails with NotFoundError. */
export function withOrg<T>(
  db: string,
  orgId: string,
  fn: (store: Store, org: Org) => Promise<T>,
): Promise<T> {
  requireDatabase(db);
  return withStore(db, async (store) => {
    const org = await store.getOrg(orgId);
    if (!org) throw new NotFoundError('org', orgId);
    return fn(store, org);
  });
}

/** `--month` checked: a `YYYY-MM` month. */
export function monthOption(value: string): string {
  if (!isMonth(value)) throw new Error(`--month: not a month (YYYY-MM): ${value}`);
  return value;
}
