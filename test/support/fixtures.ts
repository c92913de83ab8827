import type { PerLicensePlan, TieredPlan } from '../../src/core/plans.js';
import type { Org } from '../../src/core/types.js';

/** The seat tiers of the active-user model: 20, 50 (next 30), 100 (next 50), unlimited. */
export const TIERS: TieredPlan['tiers'] = [
  { upTo: 20, price: 10_000 },
  { upTo: 50, price: 20_000 },
  { upTo: 100, price: 35_000 },
  { upTo: null, price: 60_000 },
];

export const tieredPlan = (subscribedUpTo: number | null = 50): TieredPlan => ({
  type: 'tiered',
  currency: 'USD',
  tiers: TIERS,
  subscribedUpTo,
});

export const perLicensePlan = (over: Partial<PerLicensePlan> = {}): PerLicensePlan => ({
  type: 'per_license',
  currency: 'EUR',
  unitPrice: 2500,
  minimumLicenses: 3,
  licenses: 5,
  overageUnitPrice: null,
  ...over,
});

/** An org on the tracked-employee model (per licence, peak) unless overridden. */
export const makeOrg = (over: Partial<Org> = {}): Org => ({
  id: 'acme',
  name: 'Acme',
  timezone: 'Europe/Copenhagen',
  counting: { presence: 'activity', aggregation: 'peak' },
  plan: perLicensePlan(),
  fairUseCap: 10_000,
  autoCloseDays: 3,
  billingEmails: [],
  webhookUrl: null,
  webhookSecret: null,
  createdAt: Date.parse('2026-01-01T00:00:00Z'),
  ...over,
});
