import { DateTime } from 'luxon';

/**
 * A deliberately naive, obviously-correct reference model of the billing core (SPEC.md sections
 * 2-4), for differential tests. It shares no algorithm with src/core: days are found by asking
 * Luxon for each instant's local date, seats by brute force over every day and every event, and
 * rationals are compared with BigInt cross-multiplication. Slow on purpose; only for small inputs.
 */

export type NaiveStatus = 'invited' | 'active' | 'revoked' | 'deactivated';

export interface NaiveEvent {
  readonly member: string;
  readonly at: number;
}

export interface NaiveChange {
  readonly status: NaiveStatus;
  readonly at: number;
}

export interface NaiveHistory {
  readonly member: string;
  readonly changes: readonly NaiveChange[];
}

export interface NaiveRational {
  readonly numerator: number;
  readonly denominator: number;
}

/** Every ISO date (`YYYY-MM-DD`) of a `YYYY-MM` month, in order. */
export function naiveDatesOfMonth(month: string): string[] {
  const first = DateTime.fromISO(`${month}-01`, { zone: 'UTC' });
  if (!first.isValid) throw new RangeError(`not a month: ${month}`);
  const dates: string[] = [];
  for (let d = first; d.month === first.month; d = d.plus({ days: 1 })) {
    dates.push(d.toISODate() as string);
  }
  return dates;
}

/** The local ISO date of an instant in `zone`. */
export function naiveDateOf(at: number, zone: string): string {
  return DateTime.fromMillis(at, { zone }).toISODate() as string;
}

/** Days from 1970-01-01 to an ISO date (UTC midnight of that date / one day of ms). */
export function naiveEpochDayOfDate(date: string): number {
  return DateTime.fromISO(date, { zone: 'UTC' }).toMillis() / 86_400_000;
}

/** `[start, end)` of a local date in `zone`, in epoch ms, straight from Luxon. */
export function naiveDayBounds(date: string, zone: string): { start: number; end: number } {
  const day = DateTime.fromISO(date, { zone });
  return {
    start: day.startOf('day').toMillis(),
    end: day.plus({ days: 1 }).startOf('day').toMillis(),
  };
}

/**
 * `activity` presence: for each day, the number of distinct billable members with an event whose
 * instant falls on that date in `zone`.
 */
export function naiveActivityCounts(
  month: string,
  zone: string,
  events: readonly NaiveEvent[],
  isBillable: (member: string) => boolean = () => true,
): number[] {
  const counts: number[] = [];
  for (const date of naiveDatesOfMonth(month)) {
    const members = new Set<string>();
    for (const event of events) {
      if (!isBillable(event.member)) continue;
      if (DateTime.fromMillis(event.at, { zone }).toISODate() === date) members.add(event.member);
    }
    counts.push(members.size);
  }
  return counts;
}

/** The history sorted by `at`, changes at the same instant kept in input order (explicitly). */
function naiveSorted(changes: readonly NaiveChange[]): NaiveChange[] {
  return changes
    .map((change, index) => ({ change, index }))
    .sort((a, b) => (a.change.at !== b.change.at ? a.change.at - b.change.at : a.index - b.index))
    .map((x) => x.change);
}

/**
 * The status in force at instant `t`: the last change (in the stably sorted history) with
 * `at <= t`; undefined before the first change.
 */
export function naiveStatusAt(changes: readonly NaiveChange[], t: number): NaiveStatus | undefined {
  let current: NaiveStatus | undefined;
  for (const change of naiveSorted(changes)) {
    if (change.at <= t) current = change.status;
  }
  return current;
}

/**
 * True when the member was `active` at some instant of `[start, end)`. The status only changes at
 * the instants of the history, so it suffices to look at `start` and at every change instant inside
 * the interval.
 */
export function naiveActiveDuring(changes: readonly NaiveChange[], start: number, end: number): boolean {
  const instants = [start, ...changes.map((c) => c.at).filter((at) => at >= start && at < end)];
  return instants.some((t) => naiveStatusAt(changes, t) === 'active');
}

/** `status` presence: for each day, the members active at any instant of that day. */
export function naiveStatusCounts(month: string, zone: string, histories: readonly NaiveHistory[]): number[] {
  const counts: number[] = [];
  for (const date of naiveDatesOfMonth(month)) {
    const { start, end } = naiveDayBounds(date, zone);
    let count = 0;
    for (const history of histories) {
      if (naiveActiveDuring(history.changes, start, end)) count++;
    }
    counts.push(count);
  }
  return counts;
}

/** Sign of a - b, exactly. */
export function naiveCompare(a: NaiveRational, b: NaiveRational): number {
  const l = BigInt(a.numerator) * BigInt(b.denominator);
  const r = BigInt(b.numerator) * BigInt(a.denominator);
  return l < r ? -1 : l > r ? 1 : 0;
}

/** The largest daily count, over 1 (0 for a month without counts). */
export function naivePeak(counts: readonly number[]): NaiveRational {
  return { numerator: counts.reduce((m, c) => Math.max(m, c), 0), denominator: 1 };
}

/** Sum of the daily counts over the days of the month, unreduced. */
export function naiveAverage(counts: readonly number[], daysInMonth: number): NaiveRational {
  return { numerator: counts.reduce((s, c) => s + c, 0), denominator: daysInMonth };
}

export interface NaiveTier {
  readonly upTo: number | null;
  readonly price: number;
}

/**
 * The tier a month is charged at: the smallest tier whose upTo >= billable (exact), the last tier
 * when none fits. Returns its index.
 */
export function naiveChargedTierIndex(tiers: readonly NaiveTier[], billable: NaiveRational): number {
  for (let i = 0; i < tiers.length; i++) {
    const upTo = tiers[i]?.upTo;
    if (
      upTo === null ||
      (upTo !== undefined && naiveCompare(billable, { numerator: upTo, denominator: 1 }) <= 0)
    ) {
      return i;
    }
  }
  return tiers.length - 1;
}

export function naiveTieredCharge(
  tiers: readonly NaiveTier[],
  billable: NaiveRational,
): { amount: number; tierUpTo: number | null } {
  const tier = tiers[naiveChargedTierIndex(tiers, billable)];
  if (tier === undefined) throw new RangeError('a tiered plan needs tiers');
  return { amount: tier.price, tierUpTo: tier.upTo };
}

/** The smallest integer >= r, by counting up. */
export function naiveCeil(r: NaiveRational): number {
  let n = Math.floor(r.numerator / r.denominator);
  while (naiveCompare({ numerator: n, denominator: 1 }, r) < 0) n++;
  while (n > 0 && naiveCompare({ numerator: n - 1, denominator: 1 }, r) >= 0) n--;
  return n;
}

export interface NaivePerLicense {
  readonly unitPrice: number;
  readonly minimumLicenses: number;
  readonly licenses: number;
  readonly overageUnitPrice: number | null;
}

export function naivePerLicenseCharge(
  plan: NaivePerLicense,
  billable: NaiveRational,
): { amount: number; licenses: number; overage: number } {
  const licenses = Math.max(plan.licenses, plan.minimumLicenses);
  const needed = naiveCeil(billable);
  const overage = needed > licenses ? needed - licenses : 0;
  return {
    amount: licenses * plan.unitPrice + overage * (plan.overageUnitPrice ?? 0),
    licenses,
    overage,
  };
}
