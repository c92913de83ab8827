import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  batchRanges,
  beyondAscii,
  compareText,
  idKey,
  idRange,
  MAX_STRETCHES,
  place,
  SPLIT_RUN_IDS,
  type StoredRange,
  splitRun,
} from './id-ranges.js';

/** What SQLite compares: the UTF-8 bytes. */
const byBytes = (a: string, b: string) => Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));

/** Well-formed ids of every kind: ASCII, and any code point (surrogate pairs, U+E000 to U+FFFF). */
const idArb = fc.oneof(
  fc.string({ minLength: 1, maxLength: 8 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }),
  fc.nat({ max: 100_000 }).map((n) => `e${n}`),
);

describe('event id ranges', () => {
  it('compares text as SQLite does, by UTF-8 bytes', () => {
    fc.assert(
      fc.property(idArb, idArb, (a, b) => {
        expect(Math.sign(compareText(a, b))).toBe(byBytes(a, b));
      }),
    );
    // A surrogate pair (U+1D7D8) comes after U+FF10 in UTF-8, before it in UTF-16 units.
    expect(compareText('\u{1D7D8}', '\uFF10')).toBeGreaterThan(0);
    expect('\u{1D7D8}' < '\uFF10').toBe(true);
  });

  it('orders ids shorter first, then as text, so numbered ids keep their order', () => {
    const numbered = ['e9', 'e10', 'e99', 'e100', 'e1000'];
    const keys = numbered.map((id) => idKey(id));
    expect([...keys].sort(byBytes)).toEqual(keys);
    expect(idKey('é')).toBe('002é');
    fc.assert(
      fc.property(idArb, idArb, (a, b) => {
        const bytes = Buffer.byteLength(a) - Buffer.byteLength(b);
        expect(Math.sign(compareText(idKey(a), idKey(b)))).toBe(
          bytes !== 0 ? Math.sign(bytes) : byBytes(a, b),
        );
      }),
    );
  });

  it('finds the least and greatest key of a batch and whether an id repeats', () => {
    const batchArb = fc.oneof(
      fc.array(idArb, { minLength: 1, maxLength: 30 }),
      // Increasing numbered ids, as a call system sends them.
      fc
        .tuple(fc.nat({ max: 1_000_000 }), fc.integer({ min: 1, max: 30 }))
        .map(([from, n]) => Array.from({ length: n }, (_, i) => `${from + i}`)),
    );
    fc.assert(
      fc.property(batchArb, (ids) => {
        const keys = ids.map((id) => idKey(id)).sort(byBytes);
        const range = idRange(ids, !beyondAscii(JSON.stringify(ids)));
        expect(range).toEqual({
          lo: keys[0],
          hi: keys.at(-1),
          distinct: new Set(ids).size === ids.length,
        });
      }),
    );
    expect(idRange(['7', '8', '9', '10'], true)).toEqual({ lo: '0017', hi: '00210', distinct: true });
    expect(idRange(['b', 'a', 'b'], true)).toMatchObject({ lo: '001a', hi: '001b', distinct: false });
  });

  it('answers a group of batches as one range each, when each is one run and none meets another', () => {
    // Numbered ids of two lengths, so that batches overlap, repeat ids and mix lengths.
    const groupArb = fc.array(
      fc.array(
        fc.integer({ min: 95, max: 130 }).map((n) => `${n}`),
        { minLength: 1, maxLength: 6 },
      ),
      { minLength: 1, maxLength: 4 },
    );
    fc.assert(
      fc.property(groupArb, (batches) => {
        const ascii = true;
        const ranges = batches.map((ids, batch) => ({ ...idRange(ids, ascii), batch }));
        const apart = ranges.every((a, i) =>
          ranges.every((b, j) => i === j || compareText(a.hi, b.lo) < 0 || compareText(b.hi, a.lo) < 0),
        );
        const runs = ranges.every((r) => r.distinct && r.lo.slice(0, 3) === r.hi.slice(0, 3));
        const answer = batchRanges(batches, ascii);
        if (!(runs && apart)) expect(answer).toBeUndefined();
        else expect(answer).toEqual([...ranges].sort((a, b) => compareText(a.lo, b.lo)));
      }),
    );
    // One producer's batches, answered out of order: each stays its own range.
    expect(batchRanges([['120', '121'], ['100', '101'], ['110']], true)?.map((r) => r.batch)).toEqual([
      1, 2, 0,
    ]);
    expect(batchRanges([['100', '110'], ['105']], true)).toBeUndefined();
    expect(batchRanges([['99', '100']], true)).toBeUndefined();
  });

  it('tells a batch beyond ASCII from its JSON', () => {
    expect(beyondAscii(JSON.stringify(['a', 'b\u0000', '"\\']))).toBe(false);
    expect(beyondAscii(JSON.stringify(['a', 'café']))).toBe(true);
    expect(beyondAscii(JSON.stringify(['\u{1F600}']))).toBe(true);
  });

  it('places ids in the stored ranges that hold them, and the rest as one run per gap and length', () => {
    const byKey = (a: string, b: string) => compareText(idKey(a), idKey(b));
    const arb = fc.record({
      // Stored ranges: disjoint, from sorted distinct bounds taken two by two.
      bounds: fc.uniqueArray(idArb, { maxLength: 12 }),
      ids: fc.array(idArb, { minLength: 1, maxLength: 40 }),
    });
    fc.assert(
      fc.property(arb, ({ bounds, ids }) => {
        const sorted = [...bounds].sort(byKey).map((id) => idKey(id));
        const ranges: StoredRange[] = [];
        for (let i = 0; i + 1 < sorted.length; i += 2)
          ranges.push({ id: i, lo: sorted[i] as string, hi: sorted[i + 1] as string });
        // Where each id lies: inside a range (its index), or in the gap before range g (-1 - g).
        const slot = (id: string) => {
          const key = idKey(id);
          const inside = ranges.findIndex((r) => compareText(r.lo, key) <= 0 && compareText(key, r.hi) <= 0);
          return inside >= 0 ? inside : -1 - ranges.filter((r) => compareText(r.hi, key) < 0).length;
        };
        let asked = 0;
        const placed = place(ids, !beyondAscii(JSON.stringify(ids)), (key) => {
          asked++;
          return {
            at: ranges.findLast((r) => compareText(r.lo, key) <= 0),
            next: ranges.find((r) => compareText(r.lo, key) > 0),
          };
        });
        // One question per range or gap the ids lie in.
        expect(asked).toBe(new Set(ids.map(slot)).size);
        const hits = new Map<number, string[]>();
        for (const id of [...ids].sort(byKey).filter((i) => slot(i) >= 0))
          hits.set(slot(id), [...(hits.get(slot(id)) ?? []), id]);
        expect(placed.hits.map((h) => [h.range, h.ids])).toEqual(
          [...hits.entries()].map(([n, within]) => [ranges[n], within]),
        );
        // One run per gap and id length, in key order.
        const gaps = new Map<string, Set<string>>();
        const gapOf = (id: string) => `${-slot(id)}`.padStart(3, '0') + idKey(id).slice(0, 3);
        for (const id of ids.filter((i) => slot(i) < 0))
          gaps.set(gapOf(id), (gaps.get(gapOf(id)) ?? new Set()).add(id));
        const expected = [...gaps.entries()]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([, set]) => {
            const run = [...set].sort(byKey);
            return { lo: idKey(run[0] as string), hi: idKey(run.at(-1) as string), ids: run };
          });
        expect(placed.runs).toEqual(expected);
        const gapIds = ids.filter((id) => slot(id) < 0);
        expect(placed.repeats).toBe(new Set(gapIds).size !== gapIds.length);
      }),
    );
  });

  it('splits a run around new ids inside it, by side and length, or answers nothing', () => {
    const byKey = (a: string, b: string) => compareText(idKey(a), idKey(b));
    const arb = fc.record({
      held: fc.uniqueArray(idArb, { minLength: 1, maxLength: 30 }),
      added: fc.array(idArb, { minLength: 1, maxLength: 12 }),
    });
    fc.assert(
      fc.property(arb, ({ held, added }) => {
        const all = [...held, ...added];
        const pieces = splitRun(held, added, !beyondAscii(JSON.stringify(all)));
        const heldSet = new Set(held);
        if (added.some((id) => heldSet.has(id)) || new Set(added).size !== added.length) {
          expect(pieces).toBeUndefined();
          return;
        }
        // The model: in key order, a new stretch where the side or the id length changes.
        const sorted = [...all].sort(byKey);
        const stretches: string[][] = [];
        sorted.forEach((id, i) => {
          const before = sorted[i - 1];
          const cut =
            before === undefined ||
            heldSet.has(id) !== heldSet.has(before) ||
            Buffer.byteLength(id) !== Buffer.byteLength(before);
          if (cut) stretches.push([id]);
          else stretches.at(-1)?.push(id);
        });
        if (stretches.length > MAX_STRETCHES) {
          expect(pieces).toBeUndefined();
          return;
        }
        expect(pieces?.map((p) => p.ids)).toEqual(stretches);
        for (const p of pieces ?? []) {
          expect([p.lo, p.hi]).toEqual([idKey(p.ids[0] as string), idKey(p.ids.at(-1) as string)]);
        }
      }),
    );
  });

  it('cuts the runs of a split into runs of at most SPLIT_RUN_IDS ids', () => {
    const held = Array.from({ length: 3000 }, (_, i) => `n${String(i * 2).padStart(5, '0')}`);
    const pieces = splitRun(held, ['n03001'], true);
    expect(pieces?.map((p) => p.ids.length)).toEqual([
      SPLIT_RUN_IDS,
      1501 - SPLIT_RUN_IDS,
      1,
      SPLIT_RUN_IDS,
      1499 - SPLIT_RUN_IDS,
    ]);
    expect(pieces?.flatMap((p) => p.ids)).toEqual([...held.slice(0, 1501), 'n03001', ...held.slice(1501)]);
    // Ids that interleave with the run's go to rows.
    expect(splitRun(['n1', 'n3', 'n5'], ['n2', 'n4'], true)).toBeUndefined();
  });
});
