/**
 * Library ingest into SQLite (issue 3, issue 7): the seeded call-centre month (by default
 * 2,000,000 events by 10,000 members, about 150 a day, four sources) through `Store.ingest` in
 * batches of 10,000: ids deduplicated, durable on return (WAL, synchronous=FULL). The events are
 * generated a day at a time, so 10,000,000 of them fit: the peak RSS is seatmeter's.
 *
 * Prints the rate of the `ingest` calls alone and with validation (`validateBatch`, as the HTTP
 * route and `seatmeter import` run it), the process's peak RSS, and the month's usage report time
 * at the end. Usage: `npm run bench:ingest [-- EVENTS] [--quick]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateBatch } from '../src/ingest/validate-batch.js';
import { openStore } from '../src/store/open-store.js';
import { getUsage } from '../src/usage/usage-service.js';
import { makeOrg, perLicensePlan } from '../test/support/fixtures.js';
import { CALL_CENTRE, callCentreBatches, peakRssMiB, timed } from './workloads.js';

const quick = process.argv.includes('--quick');
const given = process.argv.slice(2).find((a) => /^\d+$/.test(a));
const TOTAL = Number(given ?? (quick ? 200_000 : 2_000_000));
const BATCH = 10_000;

const dir = mkdtempSync(join(tmpdir(), 'seatmeter-bench-'));
const store = openStore(`sqlite:${join(dir, 'bench.db')}`);
await store.migrate();
const org = await store.createOrg(
  makeOrg({
    id: CALL_CENTRE.orgId,
    plan: perLicensePlan({ minimumLicenses: 10, licenses: 150 }),
    fairUseCap: null,
  }),
  CALL_CENTRE.monthStart,
);
let ingestMs = 0;
let validateMs = 0;
for (const batch of callCentreBatches(TOTAL, BATCH)) {
  const body = batch.map((e) => ({ ...e, occurredAt: new Date(e.at).toISOString() }));
  const t0 = performance.now();
  const valid = validateBatch(body, CALL_CENTRE.monthEnd);
  if (!valid.ok) throw new Error(JSON.stringify(valid.issues.slice(0, 3)));
  const t1 = performance.now();
  await store.ingest(org, valid.events, CALL_CENTRE.monthEnd);
  ingestMs += performance.now() - t1;
  validateMs += t1 - t0;
}
const report = await timed(9, () => getUsage(store, org, CALL_CENTRE.month, CALL_CENTRE.monthEnd));
await store.close();
rmSync(dir, { recursive: true, force: true });
const rate = (ms: number) => Math.round(TOTAL / (ms / 1000)).toLocaleString('en');
console.log(
  `ingested ${TOTAL.toLocaleString('en')} events (SQLite, batches of ${BATCH}, durable) in ${(ingestMs / 1000).toFixed(2)} s: ` +
    `${rate(ingestMs)} events/s; with validation ${rate(ingestMs + validateMs)} events/s; ` +
    `peak RSS ${peakRssMiB().toFixed(0)} MiB; usage report ${report.ms.toFixed(3)} ms (median of 9)`,
);
