/**
 * Members CSV memory (issue 4): streams the members CSV of a month over HTTP for 10,000 and
 * 100,000 members into SQLite and reports the live heap while streaming (sampled after a forced
 * collection every 20 ms and every 50 chunks, so garbage not yet collected does not count), which should stay flat
 * in the number of members. Usage: `npm run bench:csv [-- MEMBERS...] [--quick]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer } from '../src/api/server.js';
import type { Org } from '../src/core/types.js';
import { validateBatch } from '../src/ingest/validate-batch.js';
import { openStore } from '../src/store/open-store.js';
import { makeOrg, perLicensePlan } from '../test/support/fixtures.js';

const quick = process.argv.includes('--quick');
const SIZES = process.argv
  .slice(2)
  .filter((a) => /^\d+$/.test(a))
  .map(Number);
const DAYS_PER_MEMBER = 3;
const NOW = Date.parse('2026-10-01T12:00:00Z');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc: npm run bench:csv');

async function measure(members: number) {
  const dir = mkdtempSync(join(tmpdir(), 'seatmeter-csv-'));
  const store = openStore(`sqlite:${join(dir, 'csv.db')}`);
  await store.migrate();
  const org: Org = makeOrg({ id: 'big', name: 'Big', plan: perLicensePlan({ licenses: members }) });
  await store.createOrg(org, NOW);
  let batch = [];
  for (let m = 0; m < members; m++) {
    for (let d = 0; d < DAYS_PER_MEMBER; d++) {
      const day = String(1 + ((m + d * 7) % 30)).padStart(2, '0');
      batch.push({
        id: `e${m}-${d}`,
        member: `member-${m}`,
        source: 'calls',
        occurredAt: `2026-09-${day}T10:00:00Z`,
      });
    }
    if (batch.length >= 9_000 || m === members - 1) {
      const valid = validateBatch(batch, NOW);
      if (!valid.ok) throw new Error(JSON.stringify(valid.issues.slice(0, 3)));
      await store.ingest(org, valid.events, NOW);
      batch = [];
    }
  }
  const app = await buildServer({ store, adminKey: 'bench', now: () => NOW });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  gc?.();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  let chunks = 0;
  const sample = () => {
    gc?.();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  };
  const timer = setInterval(sample, 20);
  const t0 = performance.now();
  const res = await fetch(`${address}/v1/orgs/big/usage/members?month=2026-09&format=csv`, {
    headers: { authorization: 'Bearer bench' },
  });
  let bytes = 0;
  let lines = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    for (const b of chunk) if (b === 10) lines++;
    if (++chunks % 50 === 0) sample();
  }
  const ms = performance.now() - t0;
  clearInterval(timer);
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  if (lines !== members + 1) throw new Error(`expected ${members + 1} lines, got ${lines}`);
  return { members, ms, bytes, chunks, heapGrowthMb: (peak - base) / 2 ** 20 };
}

for (const size of SIZES.length > 0 ? SIZES : quick ? [10_000, 30_000] : [10_000, 100_000]) {
  const r = await measure(size);
  console.log(
    `${r.members} members: CSV ${(r.bytes / 2 ** 20).toFixed(1)} MiB in ${r.ms.toFixed(0)} ms, live heap growth ${r.heapGrowthMb.toFixed(1)} MiB (${r.chunks} chunks)`,
  );
}
