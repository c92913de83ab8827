import { dayIndexIn, type MonthCalendar } from './calendar.js';
import type { MemberStatus, StatusChange } from './types.js';

/**
 * Who held a seat on which day of one month: member key -> the indexes (0-based) of the days it
 * held one. The key type is the caller's (member ids, or integer keys in storage).
 */
export type SeatDays<K> = Map<K, Set<number>>;

export interface ActivityEvent<K> {
  readonly member: K;
  /** Epoch ms. */
  readonly at: number;
}

export interface ActivityPresenceInput<K> {
  readonly calendar: MonthCalendar;
  readonly events: Iterable<ActivityEvent<K>>;
  /**
   * False for members that may not be billed in this month at all, i.e. members whose current
   * status is `deactivated` while the month is open. Omitted: everyone is billable.
   */
  readonly isBillable?: (member: K) => boolean;
}

/**
 * `activity` presence (the tracked-employee model): a member holds a seat on a day when at least
 * one of its events falls inside that day in the org's timezone. Order, batching and duplicates of
 * events do not matter; a shared member is one key and so one seat.
 *
 * @example
 * activitySeats({ calendar, events: [{ member: 'curtis', at: Date.parse('2019-10-21T09:30:00+02:00') }] })
 * // Map { 'curtis' => Set { 20 } }
 */
export function activitySeats<K>(input: ActivityPresenceInput<K>): SeatDays<K> {
  const seats: SeatDays<K> = new Map();
  const { calendar, isBillable } = input;
  const excluded = new Map<K, boolean>();
  for (const event of input.events) {
    const day = dayIndexIn(calendar, event.at);
    if (day < 0) continue;
    if (isBillable !== undefined) {
      let out = excluded.get(event.member);
      if (out === undefined) {
        out = !isBillable(event.member);
        excluded.set(event.member, out);
      }
      if (out) continue;
    }
    let days = seats.get(event.member);
    if (days === undefined) {
      days = new Set();
      seats.set(event.member, days);
    }
    days.add(day);
  }
  return seats;
}

/**
 * Sorts a status history by `at`. Changes may arrive out of order; among changes at the same
 * instant, the one recorded last wins, so the sort is stable.
 */
export function sortHistory(history: readonly StatusChange[]): StatusChange[] {
  return [...history].sort((a, b) => a.at - b.at);
}

/**
 * Half-open intervals `[from, to)` (epoch ms; `to` may be Infinity) during which a member had
 * `status`, from a history sorted by `at`. Zero-length intervals (two changes at one instant) are
 * dropped: only the last change at an instant takes effect.
 */
export function intervalsWithStatus(
  sorted: readonly StatusChange[],
  status: MemberStatus,
): Array<readonly [number, number]> {
  const out: Array<readonly [number, number]> = [];
  for (let i = 0; i < sorted.length; i++) {
    const change = sorted[i] as StatusChange;
    if (change.status !== status) continue;
    const to = i + 1 < sorted.length ? (sorted[i + 1] as StatusChange).at : Number.POSITIVE_INFINITY;
    if (to > change.at) out.push([change.at, to]);
  }
  return out;
}

/** The status in force at an instant, from a history sorted by `at`; undefined before the first change. */
export function statusAt(sorted: readonly StatusChange[], instantMs: number): MemberStatus | undefined {
  let current: MemberStatus | undefined;
  for (const change of sorted) {
    if (change.at > instantMs) break;
    current = change.status;
  }
  return current;
}

export interface StatusHistory<K> {
  readonly member: K;
  readonly changes: readonly StatusChange[];
}

export interface StatusPresenceInput<K> {
  readonly calendar: MonthCalendar;
  readonly histories: Iterable<StatusHistory<K>>;
}

/**
 * `status` presence (the active-user model): a member holds a seat on a day when its status was
 * `active` at any instant inside that day. `invited`, `revoked` and `deactivated` never count. A
 * status holds from its `at` (inclusive) to the next change (exclusive), so a member revoked at
 * local midnight does not count on the day that starts then.
 */
export function statusSeats<K>(input: StatusPresenceInput<K>): SeatDays<K> {
  const { calendar } = input;
  const { bounds, days } = calendar;
  const monthStart = bounds[0] as number;
  const monthEnd = bounds[days] as number;
  const seats: SeatDays<K> = new Map();
  for (const { member, changes } of input.histories) {
    let set: Set<number> | undefined;
    for (const [from, to] of intervalsWithStatus(sortHistory(changes), 'active')) {
      if (to <= monthStart || from >= monthEnd) continue;
      const first = from <= monthStart ? 0 : dayIndexIn(calendar, from);
      // The interval is open at `to`: the last day touched is the one holding `to - 1`.
      const last = to >= monthEnd ? days - 1 : dayIndexIn(calendar, to - 1);
      set ??= new Set();
      for (let d = first; d <= last; d++) set.add(d);
    }
    if (set !== undefined) seats.set(member, set);
  }
  return seats;
}

/**
 * The runs of days (epoch days of the org's local dates, `last` Infinity while the member stays
 * active) on which a member was `active` at some instant, from its history in recorded order;
 * overlapping and adjacent runs are merged, so each day appears in one run at most. `epochDayOf`
 * maps an instant to its local epoch day.
 */
export function activeDayRuns(
  changes: readonly StatusChange[],
  epochDayOf: (instantMs: number) => number,
): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (const [from, to] of intervalsWithStatus(sortHistory(changes), 'active')) {
    const first = epochDayOf(from);
    const last = to === Number.POSITIVE_INFINITY ? to : epochDayOf(to - 1);
    const previous = runs.at(-1);
    if (previous !== undefined && first <= previous[1] + 1) previous[1] = Math.max(previous[1], last);
    else runs.push([first, last]);
  }
  return runs;
}

/**
 * Adds `sign` times some runs of days to per-day deltas of the daily count: one more seat from a
 * run's first day, one less from the day after its last. The count of a day is then the sum of the
 * deltas up to it.
 */
export function addRunDeltas(
  deltas: Map<number, number>,
  runs: ReadonlyArray<readonly [number, number]>,
  sign: 1 | -1,
): void {
  for (const [first, last] of runs) {
    deltas.set(first, (deltas.get(first) ?? 0) + sign);
    if (last !== Number.POSITIVE_INFINITY) deltas.set(last + 1, (deltas.get(last + 1) ?? 0) - sign);
  }
}

/** The per-day deltas of whole histories (an org's, when its deltas are built from scratch). */
export function statusDeltas(
  histories: Iterable<{ readonly changes: readonly StatusChange[] }>,
  epochDayOf: (instantMs: number) => number,
): Map<number, number> {
  const deltas = new Map<number, number>();
  for (const { changes } of histories) addRunDeltas(deltas, activeDayRuns(changes, epochDayOf), 1);
  return deltas;
}

/**
 * The daily counts of the `days` days from `firstDay` on, from per-day deltas: those of earlier
 * days add up to the count the range starts from, later ones are ignored.
 */
export function countsFromDeltas(
  deltas: Iterable<readonly [number, number]>,
  firstDay: number,
  days: number,
): number[] {
  const step = new Array<number>(days).fill(0);
  let running = 0;
  for (const [day, delta] of deltas) {
    const i = day - firstDay;
    if (i < 0) running += delta;
    else if (i < days) step[i] = (step[i] as number) + delta;
  }
  const counts = new Array<number>(days);
  for (let i = 0; i < days; i++) {
    running += step[i] as number;
    counts[i] = running;
  }
  return counts;
}

/** The daily counts of a month: for each day, how many members held a seat on it. */
export function dailyCounts<K>(seats: SeatDays<K>, days: number): number[] {
  const counts = new Array<number>(days).fill(0);
  for (const set of seats.values()) {
    for (const d of set) counts[d] = (counts[d] as number) + 1;
  }
  return counts;
}
