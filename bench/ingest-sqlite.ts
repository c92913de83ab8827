/**
 * First ingest figure (issue 3): events per second into SQLite through the library's Store, for a
 * seeded call-centre month of 2,000,000 events by 10,000 members, in batches of 10,000, durable on
 * return. Usage: `npx tsx bench/ingest-sqlite.ts [EVENTS]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Org } from '../src/core/types.js';
import { validateBatch } from '../src/ingest/validate-batch.js';
import { openStore } from '../src/store/open-store.js';
import { makeOrg, perLicensePlan } from '../test/support/fixtures.js';

const TOTAL = Number(process.argv[2] ?? 2_000_000);
const BATCH = 10_000;
const MEMBERS = 10_000;
const SOURCES = ['adversus_calls', 'adversus_sales', 'hubspot_deals', 'fenerum'];
const MONTH_START = Date.parse('2026-09-01T00:00:00+02:00');

// Seeded PRNG (mulberry32) so every run ingests the same data.
let seed = 42;
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
};

const org: Org = makeOrg({
  id: 'callcentre',
  name: 'Call centre',
  plan: perLicensePlan({ minimumLicenses: 10, licenses: 150 }),
  fairUseCap: null,
});

const dir = mkdtempSync(join(tmpdir(), 'seatmeter-bench-'));
const store = openStore(`sqlite:${join(dir, 'bench.db')}`);
await store.migrate();
await store.createOrg(org, Date.now());
const now = Date.parse('2026-10-01T12:00:00Z');

let ingestMs = 0;
let n = 0;
while (n < TOTAL) {
  const events = [];
  for (let i = 0; i < BATCH && n < TOTAL; i++, n++) {
    // About 150 members a day: each day draws from its own slice of the 10,000.
    const day = Math.floor(random() * 30);
    const member = (day * 150 + Math.floor(random() * 150)) % MEMBERS;
    events.push({
      id: `e${n}`,
      member: `agent-${member}`,
      source: SOURCES[Math.floor(random() * SOURCES.length)],
      occurredAt: new Date(MONTH_START + day * 86_400_000 + Math.floor(random() * 36_000_000)).toISOString(),
    });
  }
  const valid = validateBatch(events, now);
  if (!valid.ok) throw new Error(JSON.stringify(valid.issues.slice(0, 3)));
  const t0 = performance.now();
  await store.ingest(org, valid.events, now);
  ingestMs += performance.now() - t0;
}
await store.close();
rmSync(dir, { recursive: true, force: true });
const rate = Math.round(TOTAL / (ingestMs / 1000));
console.log(
  `ingested ${TOTAL} events in ${(ingestMs / 1000).toFixed(2)} s: ${rate} events/s (SQLite, batches of ${BATCH}, durable)`,
);
