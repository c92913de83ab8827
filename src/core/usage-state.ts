import { atLeastPercentOf, compareToInteger, type Rational } from './rational.js';

export type UsageState = 'ok' | 'approaching' | 'over' | 'capped';

/** The share of the allowance at which a customer is warned. */
export const WARNING_PERCENT = 95;

export interface UsageStateInput {
  readonly projected: Rational;
  /** Null: the unlimited tier. */
  readonly allowance: number | null;
  readonly activeAndInvited: number;
  /** Null: no cap. */
  readonly fairUseCap: number | null;
}

/** True when active + invited members have reached the fair-use cap. */
export function isCapped(activeAndInvited: number, fairUseCap: number | null): boolean {
  return fairUseCap !== null && activeAndInvited >= fairUseCap;
}

/**
 * The usage state (SPEC.md section 4): `capped` wins; then `over` when projected > allowance,
 * `approaching` when projected >= 95 % of it, else `ok`. Without an allowance, `ok`.
 *
 * @example
 * usageState({ projected: { numerator: 48, denominator: 1 }, allowance: 50, activeAndInvited: 60, fairUseCap: 10000 })
 * // 'approaching'
 */
export function usageState(input: UsageStateInput): UsageState {
  if (isCapped(input.activeAndInvited, input.fairUseCap)) return 'capped';
  if (input.allowance === null) return 'ok';
  if (compareToInteger(input.projected, input.allowance) > 0) return 'over';
  if (atLeastPercentOf(input.projected, WARNING_PERCENT, input.allowance)) return 'approaching';
  return 'ok';
}

export type AlertKind = 'approaching' | 'breach' | 'cap_reached';
export const ALERT_KINDS: readonly AlertKind[] = ['approaching', 'breach', 'cap_reached'];

export interface AlertInput extends UsageStateInput {
  readonly toDate: Rational;
}

/**
 * The alerts whose condition holds now, for a month in progress: `approaching` (projected >= 95 %
 * of allowance, so also when it jumps straight past it), `breach` (billable to date > allowance),
 * `cap_reached`. Raising each at most once per org, month and kind is the store's job.
 */
export function dueAlerts(input: AlertInput): AlertKind[] {
  const due: AlertKind[] = [];
  if (input.allowance !== null) {
    if (atLeastPercentOf(input.projected, WARNING_PERCENT, input.allowance)) due.push('approaching');
    if (compareToInteger(input.toDate, input.allowance) > 0) due.push('breach');
  }
  if (isCapped(input.activeAndInvited, input.fairUseCap)) due.push('cap_reached');
  return due;
}
