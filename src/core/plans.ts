import type { FieldIssue } from './errors.js';
import { ceil, compareToInteger, type Rational } from './rational.js';

/** A customer buys `licenses` seats; usage above them is an overage. Money in minor units. */
export interface PerLicensePlan {
  readonly type: 'per_license';
  readonly currency: string;
  readonly unitPrice: number;
  readonly minimumLicenses: number;
  readonly licenses: number;
  /** Price of each licence above the allowance; null: overage is warned about but not billed. */
  readonly overageUnitPrice: number | null;
}

/** `upTo: null` is the unlimited tier. */
export interface Tier {
  readonly upTo: number | null;
  readonly price: number;
}

/** Ordered seat tiers; the customer subscribes to one, whose `upTo` is the allowance. */
export interface TieredPlan {
  readonly type: 'tiered';
  readonly currency: string;
  readonly tiers: readonly Tier[];
  readonly subscribedUpTo: number | null;
}

export type Plan = PerLicensePlan | TieredPlan;

export interface Charge {
  readonly currency: string;
  /** Minor units. */
  readonly amount: number;
  /** per_license: licences charged, never below the minimum; tiered: null. */
  readonly licenses: number | null;
  /** tiered: the charged tier's `upTo` (null = unlimited); per_license: null. */
  readonly tierUpTo: number | null;
  /** per_license: whole licences needed above `licenses`; tiered: null. */
  readonly overage: number | null;
}

/** The fair-use cap when an org does not set one. */
export const DEFAULT_FAIR_USE_CAP = 10_000;

/** Licences a per-licence customer pays for: what it bought, never fewer than the plan's minimum. */
export function licensesCharged(plan: PerLicensePlan): number {
  return Math.max(plan.licenses, plan.minimumLicenses);
}

/**
 * The seats the customer may use before a breach: the licences bought, or the subscribed tier's
 * `upTo`. Null for the unlimited tier.
 */
export function allowance(plan: Plan): number | null {
  return plan.type === 'per_license' ? licensesCharged(plan) : plan.subscribedUpTo;
}

/**
 * The tier a tiered month is charged at: the smallest tier whose `upTo` >= billable (exact: 50.03
 * needs the 100 tier; SPEC.md section 3), past the last tier the last tier. A month above the
 * subscribed tier (a breach) is charged at the next tier that fits, and one below it at the tier
 * it fits, as the spec says.
 */
export function chargedTier(plan: TieredPlan, billable: Rational): Tier {
  const tiers = plan.tiers;
  const fits = tiers.findIndex((t) => t.upTo === null || compareToInteger(billable, t.upTo) <= 0);
  return tiers[fits === -1 ? tiers.length - 1 : fits] as Tier;
}

/**
 * What a month costs under a plan.
 *
 * @example
 * // 50 subscribed, 60 billable: a breach, charged at the 100 tier
 * charge(tiered, { numerator: 1800, denominator: 30 }).tierUpTo // 100
 */
export function charge(plan: Plan, billable: Rational): Charge {
  if (plan.type === 'per_license') {
    const licenses = licensesCharged(plan);
    const overage = Math.max(0, ceil(billable) - licenses);
    const amount = licenses * plan.unitPrice + overage * (plan.overageUnitPrice ?? 0);
    return { currency: plan.currency, amount, licenses, tierUpTo: null, overage };
  }
  const tier = chargedTier(plan, billable);
  return { currency: plan.currency, amount: tier.price, licenses: null, tierUpTo: tier.upTo, overage: null };
}

const isMoney = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;
const isCount = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;

/**
 * The rules a plan's shape cannot express: prices in non-negative minor units, tiers strictly
 * ascending with only the last one unlimited, the subscribed tier one of the tiers. Field paths are
 * relative to the plan (`tiers.1.upTo`).
 */
export function planIssues(plan: Plan): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const bad = (field: string, message: string) => issues.push({ field, message });
  if (!/^[A-Z]{3}$/.test(plan.currency)) bad('currency', 'must be an ISO 4217 code such as EUR');
  if (plan.type === 'per_license') {
    if (!isMoney(plan.unitPrice)) bad('unitPrice', 'must be a non-negative integer in minor units');
    if (!isCount(plan.minimumLicenses)) bad('minimumLicenses', 'must be a non-negative integer');
    // Fewer licences than the minimum are allowed: the customer is charged the minimum.
    if (!isCount(plan.licenses)) bad('licenses', 'must be a non-negative integer');
    if (plan.overageUnitPrice !== null && !isMoney(plan.overageUnitPrice)) {
      bad('overageUnitPrice', 'must be null or a non-negative integer in minor units');
    }
    return issues;
  }
  if (plan.tiers.length === 0) bad('tiers', 'must list at least one tier');
  let previous = 0;
  plan.tiers.forEach((tier, i) => {
    if (!isMoney(tier.price)) bad(`tiers.${i}.price`, 'must be a non-negative integer in minor units');
    if (tier.upTo === null) {
      if (i !== plan.tiers.length - 1) bad(`tiers.${i}.upTo`, 'only the last tier may be unlimited (null)');
      return;
    }
    if (!Number.isSafeInteger(tier.upTo) || tier.upTo <= previous) {
      bad(`tiers.${i}.upTo`, 'must be a whole number above the previous tier');
      return;
    }
    previous = tier.upTo;
  });
  if (!plan.tiers.some((t) => t.upTo === plan.subscribedUpTo)) {
    bad('subscribedUpTo', "must be the upTo of one of the plan's tiers");
  }
  return issues;
}
