/**
 * Exact non-negative rationals for billing figures. They are kept unreduced so that an average
 * explains itself (`1801 / 30`); all comparisons cross-multiply, which stays exact while
 * numerator x denominator fits in 2^53 (a month of 31 days at 10^12 members would not; nothing we
 * bill comes close).
 */
export interface Rational {
  readonly numerator: number;
  readonly denominator: number;
}

export function rational(numerator: number, denominator = 1): Rational {
  if (!Number.isSafeInteger(numerator) || !Number.isSafeInteger(denominator) || denominator <= 0) {
    throw new RangeError(`invalid rational ${numerator}/${denominator}`);
  }
  return { numerator, denominator };
}

/** Sign of `a - b`: -1, 0 or 1. */
export function compare(a: Rational, b: Rational): number {
  const l = a.numerator * b.denominator;
  const r = b.numerator * a.denominator;
  return l < r ? -1 : l > r ? 1 : 0;
}

/** Sign of `r - n` for an integer `n`. */
export function compareToInteger(r: Rational, n: number): number {
  const l = r.numerator;
  const m = n * r.denominator;
  return l < m ? -1 : l > m ? 1 : 0;
}

/**
 * True when `r >= percent % of n`, exactly: `atLeastPercentOf({numerator: 19, denominator: 1}, 95, 20)`.
 */
export function atLeastPercentOf(r: Rational, percent: number, n: number): boolean {
  return r.numerator * 100 >= percent * n * r.denominator;
}

/** The smallest integer >= r. */
export function ceil(r: Rational): number {
  return Math.floor((r.numerator + r.denominator - 1) / r.denominator);
}

/** `round(x * 10^places) / 10^places` with halves rounded up, computed without float error. */
export function roundTo(numerator: number, denominator: number, places: number): number {
  const scale = 10 ** places;
  const scaled = Math.floor((2 * numerator * scale + denominator) / (2 * denominator));
  return scaled / scale;
}

/** The display value: two decimals, halves up. `toDisplay({numerator: 1801, denominator: 30})` is 60.03. */
export function toDisplay(r: Rational): number {
  return roundTo(r.numerator, r.denominator, 2);
}

/** The shape the API shows: `{ value, numerator, denominator }`. */
export interface RationalFigure extends Rational {
  readonly value: number;
}

export function toFigure(r: Rational): RationalFigure {
  return { value: toDisplay(r), numerator: r.numerator, denominator: r.denominator };
}

export function max(a: Rational, b: Rational): Rational {
  return compare(a, b) >= 0 ? a : b;
}
