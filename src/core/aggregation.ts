import { type Rational, rational } from './rational.js';
import type { Aggregation } from './types.js';

/**
 * The billable figure of a whole month from its daily counts.
 *
 * - `peak`: the largest daily count, over 1.
 * - `average`: the sum of the daily counts over the number of days in the month, unreduced.
 *
 * @example
 * aggregate([...Array(10).fill(40), ...Array(10).fill(80), ...Array(10).fill(60)], 'average', 30)
 * // { numerator: 1800, denominator: 30 }, i.e. 60
 */
export function aggregate(
  counts: readonly number[],
  aggregation: Aggregation,
  daysInMonth: number,
): Rational {
  if (aggregation === 'peak') {
    let peak = 0;
    for (const c of counts) if (c > peak) peak = c;
    return rational(peak, 1);
  }
  let sum = 0;
  for (const c of counts) sum += c;
  return rational(sum, daysInMonth);
}

export interface MonthFigures {
  /** Today's count; null unless the month is in progress. */
  readonly current: number | null;
  /** The aggregation over the days so far (for `average` still divided by every day of the month). */
  readonly toDate: Rational;
  /** The aggregation if today's count holds until the month ends. */
  readonly projected: Rational;
}

export interface MonthFiguresInput {
  readonly counts: readonly number[];
  readonly aggregation: Aggregation;
  /**
   * 0-based index of today within the month while it is in progress; null for a month that has
   * ended or not begun (then all three figures are the whole month's).
   */
  readonly todayIndex: number | null;
}

/** `current`, `toDate` and `projected` for a month, as SPEC.md section 2 defines them. */
export function monthFigures(input: MonthFiguresInput): MonthFigures {
  const { counts, aggregation, todayIndex } = input;
  const days = counts.length;
  if (todayIndex === null) {
    const whole = aggregate(counts, aggregation, days);
    return { current: null, toDate: whole, projected: whole };
  }
  if (!Number.isInteger(todayIndex) || todayIndex < 0 || todayIndex >= days) {
    throw new RangeError(`today index ${todayIndex} outside a ${days}-day month`);
  }
  const soFar = counts.slice(0, todayIndex + 1);
  const current = counts[todayIndex] as number;
  const toDate = aggregate(soFar, aggregation, days);
  const remaining = days - 1 - todayIndex;
  const projected =
    aggregation === 'peak' ? toDate : rational(toDate.numerator + current * remaining, toDate.denominator);
  return { current, toDate, projected };
}
