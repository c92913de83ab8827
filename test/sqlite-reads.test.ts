import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { utcEpochDayOf } from '../src/core/calendar.js';
import { validateBatch } from '../src/ingest/validate-batch.js';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';
import { makeOrg } from './support/fixtures.js';

/** SQLite's reads share a snapshot for a millisecond (`ReadSnapshots`). */
const NOW = Date.parse('2026-09-15T10:00:00Z');
const DAY = utcEpochDayOf(NOW);
const dir = mkdtempSync(join(tmpdir(), 'seatmeter-reads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const org = makeOrg();
const events = (from: number, n: number) => {
  const valid = validateBatch(
    Array.from({ length: n }, (_, i) => ({
      id: `e${from + i}`,
      member: `m${from + i}`,
      source: 'calls',
      occurredAt: '2026-09-15T09:00:00Z',
    })),
    NOW,
  );
  if (!valid.ok) throw new Error(JSON.stringify(valid.issues));
  return valid.events;
};

/** Runs `test` on a store on a new file with one org, and a connection of another program. */
async function onStore(
  name: string,
  test: (store: Store, other: SQLite.Database, path: string) => Promise<void>,
) {
  const path = join(dir, `${name}.db`);
  const store = openStore(`sqlite:${path}`);
  await store.migrate();
  await store.createOrg(org, NOW);
  const other = new SQLite(path);
  other.pragma('busy_timeout = 5000');
  try {
    await test(store, other, path);
  } finally {
    other.close();
    await store.close();
  }
}

const seatsToday = async (store: Store) => (await store.inviteView(org.id, DAY))?.seatsAround[1];

describe('SQLite reads', () => {
  it("see the store's own writes at once, in the turn they were made", () =>
    onStore('own', async (store) => {
      // No await below gives the event loop a turn: the first read opens the turn's snapshot.
      expect((await store.getOrg(org.id))?.name).toBe('Acme');
      await store.updateOrg({ ...org, name: 'Renamed' }, NOW);
      expect((await store.getOrg(org.id))?.name).toBe('Renamed');
      expect((await store.inviteView(org.id, DAY))?.activeAndInvited).toBe(0);
      await store.invite(org.id, { id: 'ann', email: 'ann@example.com' }, null, NOW);
      expect((await store.inviteView(org.id, DAY))?.activeAndInvited).toBe(1);
      expect(await store.getApiKey(org.id, '0123456789abcdef')).toBeUndefined();
      await store.saveApiKey(org.id, { keyId: '0123456789abcdef', secretHash: 'x', scopes: ['read'] }, NOW);
      expect(await store.getApiKey(org.id, '0123456789abcdef')).toMatchObject({ scopes: ['read'] });
      // Batches are written in a turn of their own (they are grouped): a read queued ahead of the
      // write opens that turn's snapshot.
      const before = new Promise((resolve) => setImmediate(() => resolve(seatsToday(store))));
      const after = store.ingest(org, events(0, 3), NOW).then(() => seatsToday(store));
      expect([await before, await after]).toEqual([0, 3]);
    }));

  it("share a snapshot for a moment, and see another program's commits once it ends", () =>
    onStore('other', async (store, other) => {
      expect((await store.getOrg(org.id))?.name).toBe('Acme');
      other.prepare('UPDATE orgs SET name = ? WHERE org_id = ?').run('Elsewhere', org.id);
      expect((await store.getOrg(org.id))?.name).toBe('Acme');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await store.getOrg(org.id))?.name).toBe('Elsewhere');
    }));

  it('let the write-ahead log start over while reads and writes interleave in one turn', () =>
    onStore('wal', async (store, _other, path) => {
      // Reads run before and while each write's transaction is open (it awaits between its
      // statements), a microtask apart.
      const readAlong = async () => {
        const seats = [];
        for (let k = 0; k < 8; k++) {
          await null;
          seats.push(await seatsToday(store));
        }
        return seats;
      };
      for (let i = 0; i < 3000; i++) {
        const [, seats] = await Promise.all([
          store.putMember(org.id, { id: `m${i}`, email: `m${i}@example.com`, name: 'x'.repeat(500) }, NOW),
          readAlong(),
        ]);
        expect(seats).toEqual(new Array(8).fill(0));
      }
      expect((await store.listMembers(org.id)).length).toBe(3000);
      // SQLite checkpoints at 1,000 pages of log (4 MiB) and then starts the log over; a read
      // holding its snapshot across the writer's commits would keep it from starting over.
      expect(statSync(`${path}-wal`).size).toBeLessThan(8 * 1024 * 1024);
    }));
});
