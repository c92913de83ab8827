import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { validateBatch } from '../src/ingest/validate-batch.js';
import { compareText, idKey } from '../src/store/id-ranges.js';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';
import { makeOrg } from './support/fixtures.js';
import { expectedCounts, idBatchesArb } from './support/id-batches.js';

/** How SQLite keeps event ids (migration 013): runs of a batch's ids, and ranges of `events` rows. */
const NOW = Date.parse('2026-09-15T10:00:00Z');
const dir = mkdtempSync(join(tmpdir(), 'seatmeter-ranges-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const events = (ids: readonly string[]) => {
  const valid = validateBatch(
    ids.map((id) => ({ id, member: 'ann', source: 'calls', occurredAt: '2026-09-02T10:00:00Z' })),
    NOW,
  );
  if (!valid.ok) throw new Error(JSON.stringify(valid.issues));
  return valid.events;
};
const numbered = (from: number, n: number) => Array.from({ length: n }, (_, i) => `${from + i}`);

interface Range {
  lo: string;
  hi: string;
  ids: string | null;
}

/** Runs `test` on a store on a new file, with a second connection that reads its tables. */
async function onStore(name: string, test: (store: Store, db: SQLite.Database) => Promise<void>) {
  const path = join(dir, `${name}.db`);
  const store = openStore(`sqlite:${path}`);
  await store.migrate();
  const db = new SQLite(path, { readonly: true });
  try {
    await test(store, db);
  } finally {
    db.close();
    await store.close();
  }
}

const rangesOf = (db: SQLite.Database, orgId: string) =>
  db.prepare('SELECT lo, hi, ids FROM event_ranges WHERE org_id = ? ORDER BY lo').all(orgId) as Range[];
const rowsOf = (db: SQLite.Database, orgId: string) =>
  db.prepare('SELECT event_id FROM events WHERE org_id = ?').pluck().all(orgId) as string[];

/** The ranges are disjoint, and every stored id lies in exactly one: its run's, or a range without ids. */
function expectWellFormed(db: SQLite.Database, orgId: string, stored: ReadonlySet<string>) {
  const ranges = rangesOf(db, orgId).sort((a, b) => compareText(a.lo, b.lo));
  const within = (id: string) =>
    ranges.filter((r) => compareText(r.lo, idKey(id)) <= 0 && compareText(idKey(id), r.hi) <= 0);
  ranges.forEach((r, i) => {
    expect(compareText(r.lo, r.hi)).toBeLessThanOrEqual(0);
    if (i > 0) expect(compareText((ranges[i - 1] as Range).hi, r.lo)).toBeLessThan(0);
  });
  const found: string[] = [];
  for (const r of ranges) {
    for (const id of r.ids === null ? [] : (JSON.parse(r.ids) as string[])) {
      expect(within(id)).toEqual([r]);
      found.push(id);
    }
  }
  for (const id of rowsOf(db, orgId)) {
    expect(within(id).map((r) => r.ids)).toEqual([null]);
    found.push(id);
  }
  expect(found.sort()).toEqual([...stored].sort());
}

describe('event id ranges on SQLite', () => {
  it('stores increasing batches as runs; a re-sent one moves its run to events rows, and runs go on after it', async () => {
    await onStore('runs', async (store, db) => {
      const org = await store.createOrg(makeOrg(), NOW);
      // 95 to 104: ids grow a digit inside the second batch.
      for (const from of [0, 95, 105, 200]) {
        expect(await store.ingest(org, events(numbered(from, from === 0 ? 95 : 10)), NOW)).toMatchObject({
          accepted: from === 0 ? 95 : 10,
          duplicates: 0,
        });
      }
      // A run holds ids of one length.
      expect(rangesOf(db, 'acme').map((r) => [r.lo, r.hi, r.ids !== null])).toEqual([
        ['0010', '0019', true],
        ['00210', '00294', true],
        ['00295', '00299', true],
        ['003100', '003104', true],
        ['003105', '003114', true],
        ['003200', '003209', true],
      ]);
      expect(rowsOf(db, 'acme')).toEqual([]);

      // Re-sent, with new ids either side of the runs: only the run that holds re-sent ids
      // becomes rows, the runs between stay, and the new ids are runs of their gaps.
      expect(
        await store.ingest(org, events(['150', ...numbered(105, 10), '115', '9000']), NOW),
      ).toMatchObject({
        accepted: 3,
        duplicates: 10,
      });
      expect(rowsOf(db, 'acme').sort(byNumber)).toEqual(numbered(105, 10));
      expect(await store.ingest(org, events(numbered(300, 5)), NOW)).toMatchObject({ accepted: 5 });
      expect(rangesOf(db, 'acme').map((r) => [r.lo, r.hi, r.ids !== null])).toEqual([
        ['0010', '0019', true],
        ['00210', '00294', true],
        ['00295', '00299', true],
        ['003100', '003104', true],
        ['003105', '003114', false],
        ['003115', '003150', true],
        ['003200', '003209', true],
        ['003300', '003304', true],
        ['0049000', '0049000', true],
      ]);
      expectWellFormed(
        db,
        'acme',
        new Set(['150', '9000', ...numbered(0, 116), ...numbered(200, 10), ...numbered(300, 5)]),
      );
    });
  });

  it('moves no run for a batch whose ids lie far apart, and keeps storing runs between them', async () => {
    await onStore('apart', async (store, db) => {
      const org = await store.createOrg(makeOrg(), NOW);
      for (let from = 1000; from < 2000; from += 100)
        await store.ingest(org, events(numbered(from, 100)), NOW);
      // One id before every run and one after: before, every run between them became rows.
      expect(await store.ingest(org, events(['999', '2000', 'x'.repeat(200)]), NOW)).toMatchObject({
        accepted: 3,
      });
      expect(rowsOf(db, 'acme')).toEqual([]);
      expect(await store.ingest(org, events(numbered(2001, 100)), NOW)).toMatchObject({ accepted: 100 });
      expect(await store.ingest(org, events(['1500', '2050', '2101']), NOW)).toMatchObject({
        accepted: 1,
        duplicates: 2,
      });
      // Only the two runs that hold re-sent ids became rows.
      expect(rowsOf(db, 'acme')).toHaveLength(200);
      expect(rangesOf(db, 'acme').filter((r) => r.ids !== null)).toHaveLength(13);
      expectWellFormed(db, 'acme', new Set(['999', 'x'.repeat(200), ...numbered(1000, 1102)]));
    });
  });

  it('splits a run that two producers stored together, so that each one goes on in runs', async () => {
    await onStore('producers', async (store, db) => {
      const org = await store.createOrg(makeOrg(), NOW);
      const ids = (prefix: string, from: number) =>
        Array.from({ length: 100 }, (_, i) => `${prefix}-${String(from + i).padStart(6, '0')}`);
      // Both producers' first batches in one group: one run from a-000001 to b-000100.
      await store.ingest(org, events([...ids('a', 1), ...ids('b', 1)]), NOW);
      expect(rangesOf(db, 'acme')).toHaveLength(1);
      for (let from = 101; from < 600; from += 100) {
        expect(await store.ingest(org, events(ids('a', from)), NOW)).toMatchObject({ accepted: 100 });
        expect(await store.ingest(org, events(ids('b', from)), NOW)).toMatchObject({ accepted: 100 });
      }
      // Before, every later a- batch fell inside that run and went to rows.
      expect(rowsOf(db, 'acme')).toEqual([]);
      expect(await store.ingest(org, events([...ids('a', 50).slice(0, 60), 'a-999999']), NOW)).toMatchObject({
        accepted: 1,
        duplicates: 60,
      });
      const sent = ['a', 'b'].flatMap((p) => [1, 101, 201, 301, 401, 501].flatMap((from) => ids(p, from)));
      expectWellFormed(db, 'acme', new Set([...sent, 'a-999999']));
    });
  });

  it('stores each batch of a group as its own run, so that batches answered later land between them', async () => {
    await onStore('group', async (store, db) => {
      const org = await store.createOrg(makeOrg(), NOW);
      const batch = (n: number) => numbered(100_000 + n * 100, 100);
      // Concurrent requests are written as one group: here one producer's batches 0, 2 and 4,
      // with 1 and 3 still on their way (two connections, or two producers).
      const written = (ns: number[]) => Promise.all(ns.map((n) => store.ingest(org, events(batch(n)), NOW)));
      const fresh = { accepted: 100, duplicates: 0, late: 0 };
      expect(await written([0, 2, 4])).toEqual([fresh, fresh, fresh]);
      expect(rangesOf(db, 'acme')).toHaveLength(3);
      expect(await written([1, 3])).toEqual([fresh, fresh]);
      // One run for the group would have held 1 and 3: cut into five stretches, more than a split
      // makes, it would have gone to rows.
      expect(rangesOf(db, 'acme')).toHaveLength(5);
      expect(rowsOf(db, 'acme')).toEqual([]);
      expect(await written([3, 5])).toEqual([{ accepted: 0, duplicates: 100, late: 0 }, fresh]);
      expectWellFormed(db, 'acme', new Set([0, 1, 2, 3, 4, 5].flatMap(batch)));
    });
  });

  it('keeps the ranges disjoint and every id in exactly one, whatever the batches', async () => {
    let run = 0;
    await onStore('property', async (store, db) => {
      await fc.assert(
        fc.asyncProperty(idBatchesArb, async (batches) => {
          const org = await store.createOrg(makeOrg({ id: `p${run++}` }), NOW);
          const answers = [];
          for (const ids of batches) answers.push(await store.ingest(org, events(ids), NOW));
          expect(answers).toEqual(expectedCounts(batches));
          expectWellFormed(db, org.id, new Set(batches.flat()));
        }),
        { numRuns: 80 },
      );
    });
  });
});

function byNumber(a: string, b: string) {
  return Number(a) - Number(b);
}
