/**
 * Where a batch's event ids lie, for storing them as one run (SQLite's `event_ranges`).
 *
 * Ids are ordered by their key: the id's length in UTF-8 bytes, in three digits, then the id. Keys
 * compare as SQLite compares text (UTF-8 bytes, code point order), so shorter ids come first and
 * ids of one length sort as text: `e9` before `e10`, `99` before `100`. Ids that a call or sales
 * system numbers as it goes, padded or not, then arrive in increasing order, and a batch's ids lie
 * in a range no earlier batch touches.
 */

/** The range of one batch's ids, as keys; `distinct` when no id repeats in it. */
export interface IdRange {
  readonly lo: string;
  readonly hi: string;
  readonly distinct: boolean;
}

/**
 * The ordering key of an id. Three digits hold any id: ids are at most 200 UTF-16 units, 600 UTF-8
 * bytes (`idRange`'s ASCII shortcut orders by length, then text, which is key order only so).
 */
export function idKey(id: string, bytes: number = Buffer.byteLength(id)): string {
  return `${bytes < 10 ? '00' : bytes < 100 ? '0' : ''}${bytes}${id}`;
}

/**
 * Text in code point order, which is the order of its UTF-8 bytes and SQLite's. JavaScript's `<`
 * compares UTF-16 units, which puts characters above U+FFFF (surrogate pairs) before U+E000 to
 * U+FFFF: this moves surrogates above them.
 */
export function compareText(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codeUnitRank(x) - codeUnitRank(y);
  }
  return a.length - b.length;
}

function codeUnitRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
}

/** True when `list`, the batch's ids as JSON, holds a character beyond ASCII. */
export const beyondAscii = (list: string): boolean => /[\u0080-\uffff]/.test(list);

/** Text in UTF-16 unit order (JavaScript's `<`): the order of ASCII text and of ASCII keys. */
const byUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** ASCII ids in key order without their keys: by length, then as text. */
const byLengthThenUnits = (a: string, b: string): number => a.length - b.length || byUnits(a, b);

/**
 * The range of a non-empty batch's ids. `ascii` says every id is ASCII (one test of the batch's
 * JSON, `beyondAscii`): a UTF-16 length is then the byte length and `<` the byte order, and no
 * key is built per id. Ids in increasing order cannot repeat; others are checked with a set.
 */
export function idRange(ids: readonly string[], ascii: boolean): IdRange {
  const items = ascii ? ids : ids.map((id) => idKey(id));
  const compare = ascii ? byLengthThenUnits : compareText;
  let lo = items[0] as string;
  let hi = lo;
  let increasing = true;
  for (let i = 1; i < items.length; i++) {
    const item = items[i] as string;
    if (compare(item, lo) < 0) lo = item;
    if (compare(item, hi) > 0) hi = item;
    else increasing = false;
  }
  return {
    lo: ascii ? idKey(lo, lo.length) : lo,
    hi: ascii ? idKey(hi, hi.length) : hi,
    distinct: increasing || new Set(items).size === items.length,
  };
}

/**
 * The ranges of a group's batches (requests written in one transaction), each to be one run, in
 * key order: answered when every batch's ids are distinct and of one length and no two batches'
 * ranges meet, else nothing. One run for the whole group would span the gaps between its batches:
 * when two producers' batches share a group, one producer ahead of the other, the other's later
 * batches would land inside it and split it. Batch by batch, they land in the gaps.
 */
export function batchRanges(
  batches: ReadonlyArray<readonly string[]>,
  ascii: boolean,
): Array<IdRange & { readonly batch: number }> | undefined {
  const ranges = [];
  for (const [batch, ids] of batches.entries()) {
    const range = idRange(ids, ascii);
    if (!range.distinct || !sameLength(range.lo, range.hi)) return undefined;
    ranges.push({ ...range, batch });
  }
  ranges.sort((a, b) => compareText(a.lo, b.lo));
  for (let i = 1; i < ranges.length; i++) {
    if (compareText((ranges[i - 1] as IdRange).hi, (ranges[i] as IdRange).lo) >= 0) return undefined;
  }
  return ranges;
}

/**
 * Whether two keys are of ids of one length. A run holds ids of one length only: an id far longer
 * than its batch's others (a stray, or ids of another system) would otherwise stretch the run over
 * every id of the lengths between, and the ids sent later would land inside it.
 */
export const sameLength = (a: string, b: string): boolean => a.startsWith(b.slice(0, 3));

/** Ids with their keys, in key order (`ascii`: every id is ASCII, see `idRange`). */
function inKeyOrder(ids: readonly string[], ascii: boolean): Array<readonly [key: string, id: string]> {
  const keyed = ids.map((id) => [ascii ? idKey(id, id.length) : idKey(id), id] as const);
  const compare = ascii ? byUnits : compareText;
  return keyed.sort(([a], [b]) => compare(a, b));
}

/** A run to store: its ids in key order, and the keys of the first and last. */
export interface Run {
  lo: string;
  hi: string;
  readonly ids: string[];
}

/** A stored range: its row and its keys. */
export interface StoredRange {
  readonly id: number;
  readonly lo: string;
  readonly hi: string;
}

/** The stored ranges around a key: the last that starts at or before it, and the first after it. */
export interface Around {
  readonly at: StoredRange | undefined;
  readonly next: StoredRange | undefined;
}

/** Where a batch's ids go, from `place`. */
export interface Placement {
  /** New runs: the distinct ids of one length that lie in one gap between stored ranges, in key order. */
  readonly runs: Run[];
  /** The stored ranges that some ids lie in, with those ids (repeats kept), in key order. */
  readonly hits: Array<{ range: StoredRange; ids: string[] }>;
  /** Whether an id that lies in a gap repeats in the batch. */
  readonly repeats: boolean;
}

/**
 * Places a batch's ids among the stored ranges, asking `around` (two index probes) only where the
 * ids leave the range or gap they were in: the work grows with the ranges and gaps the batch
 * touches, not with the org's history. Ids in a gap between stored ranges are new: each gap's
 * become one run per id length, disjoint from everything stored. Ids inside a stored range may be
 * known: the caller checks them. Ranges that hold none of the batch's ids are not touched.
 */
export function place(ids: readonly string[], ascii: boolean, around: (key: string) => Around): Placement {
  const keyed = inKeyOrder(ids, ascii);
  const runs: Placement['runs'] = [];
  const hits: Placement['hits'] = [];
  let repeats = false;
  // The range the previous id lay in, or the gap: the start of the range after it (none: `null`).
  let hit: Placement['hits'][number] | undefined;
  let gapEnd: string | null | undefined;
  let gap: string[] = [];
  let gapLo = '';
  let gapHi = '';
  const closeGap = () => {
    if (gap.length > 0) runs.push({ lo: gapLo, hi: gapHi, ids: gap });
    gap = [];
  };
  for (const [key, id] of keyed) {
    const inHit = hit !== undefined && compareText(key, hit.range.hi) <= 0;
    const inGap = gapEnd !== undefined && (gapEnd === null || compareText(key, gapEnd) < 0);
    if (!inHit && !inGap) {
      closeGap();
      const { at, next } = around(key);
      if (at !== undefined && compareText(at.hi, key) >= 0) {
        hit = { range: at, ids: [] };
        hits.push(hit);
        gapEnd = undefined;
      } else {
        hit = undefined;
        gapEnd = next?.lo ?? null;
      }
    }
    if (hit !== undefined) {
      hit.ids.push(id);
    } else if (gap.length === 0 || !sameLength(key, gapLo)) {
      closeGap();
      gap.push(id);
      gapLo = key;
      gapHi = key;
    } else if (key === gapHi) {
      repeats = true;
    } else {
      gap.push(id);
      gapHi = key;
    }
  }
  closeGap();
  return { runs, hits, repeats };
}

/**
 * The most stretches (of one side and id length) a run is split into: enough for the ids of one
 * producer landing in a run it shares with another (held, added, held). Ids that interleave more
 * finely go to rows instead: a split into one run per id would take more room than rows.
 */
export const MAX_STRETCHES = 3;

/**
 * The most ids a run made by a split holds: a run that new ids keep landing in (stragglers in
 * increasing order) is read and written again on each split, so a split cuts it into runs of this
 * size once, as moving it to rows would, and a later split reads one of them.
 */
export const SPLIT_RUN_IDS = 1024;

/**
 * A stored run with new ids that fell inside its range (none of them held by it, none repeated),
 * as runs in key order: stretches of ids from one side only and of one length, cut into runs of
 * at most `SPLIT_RUN_IDS`. Ids that a group of two producers' batches stored together then do
 * not leave the later ids of either inside one run. Answers nothing when an added id is held or
 * repeats, or when the ids interleave into more than `MAX_STRETCHES` stretches: the caller then
 * moves the run to rows.
 */
export function splitRun(
  held: readonly string[],
  added: readonly string[],
  ascii: boolean,
): Run[] | undefined {
  const heldSet = new Set(held);
  const addedSet = new Set<string>();
  for (const id of added) {
    if (heldSet.has(id) || addedSet.has(id)) return undefined;
    addedSet.add(id);
  }
  const keyed = inKeyOrder([...held, ...added], ascii);
  const pieces: Run[] = [];
  let piece: Run | undefined;
  let stretches = 0;
  let fromAdded = false;
  for (const [key, id] of keyed) {
    const isAdded = addedSet.has(id);
    const stretch = piece === undefined || isAdded !== fromAdded || !sameLength(key, piece.lo);
    if (stretch && ++stretches > MAX_STRETCHES) return undefined;
    if (piece === undefined || stretch || piece.ids.length === SPLIT_RUN_IDS) {
      piece = { lo: key, hi: key, ids: [] };
      pieces.push(piece);
      fromAdded = isAdded;
    }
    piece.ids.push(id);
    piece.hi = key;
  }
  return pieces;
}
