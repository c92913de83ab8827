import { compareToInteger, type Rational, rational, roundTo, toDisplay } from './rational.js';
import { type AlertInput, type AlertKind, dueAlerts, type UsageState, usageState } from './usage-state.js';

/** What an alert says: the figure that crossed its threshold, against which limit. */
export interface AlertFacts {
  readonly kind: AlertKind;
  readonly month: string;
  /** `approaching`: projected; `breach`: billable to date; `cap_reached`: active + invited. */
  readonly figure: Rational;
  /** The allowance (`approaching`, `breach`) or the fair-use cap (`cap_reached`). */
  readonly limit: number | null;
}

/**
 * The alerts due for a month in progress, each with its figure and limit, in the order they are
 * raised (a jump straight to over raises `approaching`, then `breach`).
 */
export function alertsDue(month: string, input: AlertInput): AlertFacts[] {
  return dueAlerts(input).map((kind) => {
    if (kind === 'approaching') return { kind, month, figure: input.projected, limit: input.allowance };
    if (kind === 'breach') return { kind, month, figure: input.toDate, limit: input.allowance };
    return { kind, month, figure: rational(input.activeAndInvited), limit: input.fairUseCap };
  });
}

/** `figure` as a share of `limit`, one decimal; an allowance of 0 has no share. */
function percentOf(figure: Rational, limit: number): string {
  return limit === 0 ? 'all' : `${roundTo(figure.numerator * 100, figure.denominator * limit, 1)} %`;
}

const licences = (n: number) => `${n} ${n === 1 ? 'licence' : 'licences'}`;

/**
 * The sentence an alert is told in (e-mail subject line, webhook, alert list).
 *
 * @example
 * alertMessage({ kind: 'approaching', month: '2026-11', figure: { numerator: 48, denominator: 1 }, limit: 50 })
 * // 'Projected usage for 2026-11 is 48 of 50 licences (96 %).'
 */
export function alertMessage(facts: AlertFacts): string {
  const value = toDisplay(facts.figure);
  const limit = facts.limit ?? 0;
  switch (facts.kind) {
    case 'approaching':
      return `Projected usage for ${facts.month} is ${value} of ${licences(limit)} (${percentOf(facts.figure, limit)}).`;
    case 'breach':
      return `Usage for ${facts.month} is ${value} to date, over the allowance of ${licences(limit)}.`;
    case 'cap_reached':
      return `${value} active and invited users have reached the fair-use cap of ${limit}: new invites are blocked.`;
  }
}

/** The dashboard's nag bar: shown when the month in progress is approaching, over or capped. */
export interface Banner {
  readonly state: Exclude<UsageState, 'ok'>;
  /** `warning` for approaching; `error` for over and capped. */
  readonly level: 'warning' | 'error';
  readonly message: string;
}

/**
 * The banner for a month in progress, from the same figures as its alerts; null when all is well.
 * `over` is a forecast while billable to date is still within the allowance, and says so.
 */
export function bannerFor(input: AlertInput): Banner | null {
  const state = usageState(input);
  if (state === 'ok') return null;
  if (state === 'capped') {
    return {
      state,
      level: 'error',
      message: `Fair-use cap reached: ${input.activeAndInvited} active and invited users of ${input.fairUseCap}. New invites are blocked.`,
    };
  }
  const allowance = input.allowance as number;
  const projected = toDisplay(input.projected);
  if (state === 'approaching') {
    return {
      state,
      level: 'warning',
      message: `You are using ${percentOf(input.projected, allowance)} of your ${licences(allowance)} this month (${projected} projected).`,
    };
  }
  const message =
    compareToInteger(input.toDate, allowance) > 0
      ? `You are over your ${licences(allowance)}: ${toDisplay(input.toDate)} to date this month.`
      : `At this rate the month ends at ${projected}, over your ${licences(allowance)}.`;
  return { state, level: 'error', message };
}
