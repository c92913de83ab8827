/**
 * The HTTP figures (issue 7), against one `seatmeter serve` process on SQLite:
 *
 * - HTTP ingest: 12 clients post batches of 1,000 fresh events of the call-centre month;
 * - the invite check under load: `autocannon` at a fixed 5,000 requests/s (latencies corrected for
 *   coordinated omission) for 15 s after a 3 s warm-up, with the server's peak RSS; then the same
 *   load on `/healthz`, the floor of this setup (load generator and server on the same two cores).
 *
 * Usage: `npm run bench:http [-- --quick]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startServe } from '../test/support/serve-process.js';
import { CALL_CENTRE, callCentreEvents, peakRssMiB } from './workloads.js';

const quick = process.argv.includes('--quick');
const EVENTS = quick ? 100_000 : 500_000;
const BATCH = 1_000;
const CLIENTS = 12;
const RATE = 5_000;
const SECONDS = quick ? 5 : 15;
const ADMIN = 'bench';
const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };

const dir = mkdtempSync(join(tmpdir(), 'seatmeter-http-'));
const server = await startServe(['--db', `sqlite:${join(dir, 'http.db')}`], {
  SEATMETER_ADMIN_KEY: ADMIN,
  // The bench measures the server, not the per-key guard.
  SEATMETER_RATE_LIMIT: '1000000',
});
try {
  const base = server.url;
  const created = await fetch(`${base}/v1/orgs`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      id: CALL_CENTRE.orgId,
      name: 'Call centre',
      timezone: CALL_CENTRE.timezone,
      counting: { presence: 'activity', aggregation: 'peak' },
      plan: {
        type: 'per_license',
        currency: 'EUR',
        unitPrice: 2500,
        minimumLicenses: 0,
        licenses: 20_000,
        overageUnitPrice: null,
      },
      fairUseCap: 1_000_000,
    }),
  });
  if (created.status !== 201) throw new Error(`create org: ${created.status} ${await created.text()}`);

  const events = callCentreEvents(EVENTS);
  const bodies: string[] = [];
  for (let i = 0; i < EVENTS; i += BATCH) {
    bodies.push(
      JSON.stringify({
        events: events.slice(i, i + BATCH).map((e) => ({
          id: e.id,
          member: e.member,
          source: e.source,
          occurredAt: new Date(e.at).toISOString(),
        })),
      }),
    );
  }
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++] as string;
        const res = await fetch(`${base}/v1/orgs/${CALL_CENTRE.orgId}/events`, {
          method: 'POST',
          headers,
          body,
        });
        if (res.status !== 200) throw new Error(`ingest: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
      }
    }),
  );
  const ingestSeconds = (performance.now() - t0) / 1000;
  console.log(
    `HTTP ingest (SQLite, batches of ${BATCH}, ${CLIENTS} clients): ${EVENTS} events in ${ingestSeconds.toFixed(2)} s = ${Math.round(EVENTS / ingestSeconds)} events/s`,
  );

  const invite = {
    url: `${base}/v1/orgs/${CALL_CENTRE.orgId}/invites/check`,
    method: 'POST' as const,
    headers,
    body: JSON.stringify({ email: 'new.agent@callcentre.example' }),
  };
  // The floor of this setup: the same load on `/healthz` (no auth, no body, one `select 1`).
  const health = { url: `${base}/healthz`, method: 'GET' as const };
  const load = (request: typeof invite | typeof health, duration: number) =>
    autocannon({ ...request, connections: 50, overallRate: RATE, duration });
  const pid = server.child.pid as number;
  for (const [name, request] of [
    ['invite check', invite],
    ['/healthz (the floor)', health],
  ] as const) {
    // Steady state: a short run first warms the route up (compiled code, prepared statements),
    // and only the run after it is measured.
    await load(request, 3);
    const result = await load(request, SECONDS);
    console.log(
      `${name} at ${RATE} requests/s for ${SECONDS} s: ${Math.round(result.requests.average)} requests/s answered, latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms; non-2xx ${result.non2xx}, errors ${result.errors}`,
    );
  }
  console.log(`server peak RSS: ${peakRssMiB(pid).toFixed(0)} MiB`);
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
