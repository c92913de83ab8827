import { money } from '../../src/core/display.js';
import type { MemberReason } from '../../src/usage/usage-service.js';
import type { Plan, Usage, UsageState } from './api.js';

export { figure, money } from '../../src/core/display.js';

export function explain(f: { numerator: number; denominator: number }): string {
  return f.denominator === 1 ? 'highest daily count' : `${f.numerator} seat-days ÷ ${f.denominator} days`;
}

export function planText(plan: Plan): string {
  if (plan.type === 'per_license') {
    const min = plan.minimumLicenses > 0 ? `, minimum ${plan.minimumLicenses}` : '';
    return `${plan.licenses} licences at ${money(plan.unitPrice, plan.currency)}${min}`;
  }
  const tier = plan.subscribedUpTo === null ? 'unlimited' : `up to ${plan.subscribedUpTo} seats`;
  return `Seat tier: ${tier}`;
}

/** What the charge is for: the tier, or the licences and those over them. */
export function chargeText(usage: Usage): string {
  const c = usage.charge;
  if (c.tierUpTo !== null || c.licenses === null) {
    return c.tierUpTo === null ? 'unlimited tier' : `tier up to ${c.tierUpTo} seats`;
  }
  return c.overage ? `${c.licenses} licences + ${c.overage} over` : `${c.licenses} licences`;
}

export const STATE_TEXT: Record<UsageState, string> = {
  ok: 'Within allowance',
  approaching: 'Approaching allowance',
  over: 'Over allowance',
  capped: 'Fair-use cap reached',
};

/** Worst first: capped, over, approaching, ok. */
export const STATE_RANK: Record<UsageState, number> = { capped: 0, over: 1, approaching: 2, ok: 3 };

export function reasonText(reason: MemberReason, days: number): string {
  const n = `${days} ${days === 1 ? 'day' : 'days'}`;
  switch (reason) {
    case 'activity':
      return `Had data on ${n}`;
    case 'active':
      return `Active on ${n}`;
    case 'deactivated':
      return days > 0 ? `Deactivated: not billed (data on ${n})` : 'Deactivated: not billed';
    case 'no_activity':
      return 'No data this month: free';
    case 'not_active':
      return 'Not active this month: free';
  }
}

/** The `count` months up to and including `month`, newest first. */
export function recentMonths(month: string, count: number): string[] {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const d = new Date(Date.UTC(y, m - 1 - i, 1));
    out.push(`${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`);
  }
  return out;
}

export function monthName(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 1, 1)).toLocaleString('en', {
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  });
}
