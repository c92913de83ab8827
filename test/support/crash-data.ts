import type { Org } from '../../src/core/types.js';
import { makeOrg, perLicensePlan } from './fixtures.js';

export const BATCH_SIZE = 1000;

export const crashOrg: Org = makeOrg({
  id: 'crash',
  timezone: 'UTC',
  plan: perLicensePlan({ unitPrice: 100, minimumLicenses: 0, licenses: 10 }),
  fairUseCap: null,
});

/** Batch n: 1,000 events of 50 members spread over September 2026. */
export function crashBatch(n: number) {
  return Array.from({ length: BATCH_SIZE }, (_, i) => ({
    id: `b${n}-${i}`,
    member: `m${(n * 7 + i) % 50}`,
    source: 'calls',
    occurredAt: new Date(
      Date.parse('2026-09-01T00:00:00Z') + ((n * BATCH_SIZE + i) % 720) * 3_600_000,
    ).toISOString(),
  }));
}
