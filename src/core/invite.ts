import { chargedTier, type Plan } from './plans.js';
import { roundTo } from './rational.js';
import { WARNING_PERCENT } from './usage-state.js';

export type InviteDecision = 'ok' | 'warning' | 'breach' | 'blocked';

export interface InviteCheckInput {
  /** Today's count. */
  readonly seats: number;
  /** Null: the unlimited tier. */
  readonly allowance: number | null;
  readonly activeAndInvited: number;
  /** Null: no cap. */
  readonly fairUseCap: number | null;
  /** The org's plan, for what a breach costs; without it the message says it in general. */
  readonly plan?: Plan;
}

export interface InviteCheck {
  readonly decision: InviteDecision;
  readonly seats: number;
  readonly after: number;
  readonly allowance: number | null;
  /** after / allowance x 100, one decimal; null without an allowance. */
  readonly percent: number | null;
  readonly message: string;
}

/**
 * What inviting one more member would do (SPEC.md section 4): `blocked` when active + invited + 1
 * would pass the fair-use cap; else `breach` when after > allowance; else `warning` when after >= 95 %
 * of the allowance; else `ok`.
 *
 * @example
 * inviteCheck({ seats: 18, allowance: 20, activeAndInvited: 18, fairUseCap: 10000 })
 * // { decision: 'warning', seats: 18, after: 19, allowance: 20, percent: 95, ... }
 */
export function inviteCheck(input: InviteCheckInput): InviteCheck {
  const { seats, allowance, activeAndInvited, fairUseCap } = input;
  const after = seats + 1;
  const percent = allowance === null || allowance === 0 ? null : roundTo(after * 100, allowance, 1);
  let decision: InviteDecision;
  if (fairUseCap !== null && activeAndInvited + 1 > fairUseCap) decision = 'blocked';
  else if (allowance !== null && after > allowance) decision = 'breach';
  else if (allowance !== null && after * 100 >= WARNING_PERCENT * allowance) decision = 'warning';
  else decision = 'ok';
  return {
    decision,
    seats,
    after,
    allowance,
    percent,
    message: inviteMessage(decision, after, allowance, fairUseCap, input.plan),
  };
}

function inviteMessage(
  decision: InviteDecision,
  after: number,
  allowance: number | null,
  fairUseCap: number | null,
  plan: Plan | undefined,
): string {
  const usage =
    allowance === null ? `${after} seats in use` : `${after} of ${allowance} licensed seats in use`;
  switch (decision) {
    case 'blocked':
      return `The fair-use limit of ${fairUseCap} active and invited users is reached. Revoke access for existing users before inviting new ones.`;
    case 'breach':
      return `This invite takes you over your licence: ${usage}. ${breachCost(plan, after)}`;
    case 'warning':
      return `You are using ${Math.floor((after * 100) / (allowance as number))}% of your licensed seats: ${usage} after this invite.`;
    case 'ok':
      return `${usage} after this invite.`;
  }
}

/** What going over the allowance costs under the plan (SPEC.md section 3). */
function breachCost(plan: Plan | undefined, after: number): string {
  if (plan === undefined) return 'Seats above your plan are billed at the next tier or as overage.';
  if (plan.type === 'tiered') {
    const next = chargedTier(plan, { numerator: after, denominator: 1 }).upTo;
    if (next === null) return 'A month over your tier is charged at the unlimited tier.';
    // The plan's last tier is finite and this is past it: there is no tier to move to.
    if (next < after) return `Your plan has no tier above ${next} seats.`;
    return `A month over your tier is charged at the next tier, up to ${next} seats.`;
  }
  return plan.overageUnitPrice === null
    ? 'Seats above your licences are an overage: buy more licences to cover them.'
    : 'Each seat above your licences is billed as overage.';
}
