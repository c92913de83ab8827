/**
 * Library ingest into SQLite (issue 3, issue 7): the seeded call-centre month (2,000,000 events by
 * 10,000 members, about 150 a day, four sources) through `Store.ingest` in batches of 10,000,
 * validated, ids deduplicated, durable on return (WAL, synchronous=FULL). Time counts the `ingest`
 * calls only. Usage: `npm run bench:ingest [-- EVENTS] [--quick]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateBatch } from '../src/ingest/validate-batch.js';
import { openStore } from '../src/store/open-store.js';
import { makeOrg, perLicensePlan } from '../test/support/fixtures.js';
import { CALL_CENTRE, callCentreEvents } from './workloads.js';

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
const events = callCentreEvents(TOTAL);
let ingestMs = 0;
for (let i = 0; i < TOTAL; i += BATCH) {
  const batch = events.slice(i, i + BATCH).map((e) => ({ ...e, occurredAt: new Date(e.at).toISOString() }));
  const valid = validateBatch(batch, CALL_CENTRE.monthEnd);
  if (!valid.ok) throw new Error(JSON.stringify(valid.issues.slice(0, 3)));
  const t0 = performance.now();
  await store.ingest(org, valid.events, CALL_CENTRE.monthEnd);
  ingestMs += performance.now() - t0;
}
await store.close();
rmSync(dir, { recursive: true, force: true });
const rate = Math.round(TOTAL / (ingestMs / 1000));
console.log(
  `ingested ${TOTAL} events in ${(ingestMs / 1000).toFixed(2)} s: ${rate} events/s (SQLite, batches of ${BATCH}, durable)`,
);
