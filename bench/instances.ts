/**
 * HTTP ingest through 1 and through 3 `seatmeter serve` processes on one PostgreSQL (issue 8):
 * 12 clients post batches of 1,000 fresh events (10,000 members, this month) round-robin across
 * the instances; events per second over the whole run. Usage: `npm run bench:instances [-- EVENTS] [--quick]`.
 */
import { createDatabase, startPostgres } from '../test/support/postgres.js';
import { type ServeProcess, startServe } from '../test/support/serve-process.js';

const quick = process.argv.includes('--quick');
const given = process.argv.slice(2).find((a) => /^\d+$/.test(a));
const TOTAL = Number(given ?? (quick ? 50_000 : 300_000));
const BATCH = 1_000;
const CLIENTS = 12;
const ADMIN = 'bench';
const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };

const pg = await startPostgres();
try {
  for (const instances of [1, 3]) {
    const db = await createDatabase(pg.url, `bench_${instances}`);
    const servers: ServeProcess[] = [];
    for (let i = 0; i < instances; i++)
      servers.push(await startServe(['--db', db], { SEATMETER_ADMIN_KEY: ADMIN }));
    const first = servers[0] as ServeProcess;
    await fetch(`${first.url}/v1/orgs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        id: 'bench',
        name: 'Bench',
        timezone: 'UTC',
        counting: { presence: 'activity', aggregation: 'peak' },
        plan: {
          type: 'per_license',
          currency: 'EUR',
          unitPrice: 100,
          minimumLicenses: 0,
          licenses: 20_000,
          overageUnitPrice: null,
        },
      }),
    });
    const now = Date.now();
    const monthStart = new Date(now);
    monthStart.setUTCDate(1);
    monthStart.setUTCHours(0, 0, 0, 0);
    const span = now - monthStart.getTime() - 60_000;
    const bodies: string[] = [];
    for (let b = 0; b < TOTAL / BATCH; b++) {
      const events = [];
      for (let i = 0; i < BATCH; i++) {
        const n = b * BATCH + i;
        events.push({
          id: `e${n}`,
          member: `m${(n * 7919) % 10_000}`,
          source: n % 3 === 0 ? 'deals' : 'calls',
          occurredAt: new Date(monthStart.getTime() + ((n * 104_729) % span)).toISOString(),
        });
      }
      bodies.push(JSON.stringify({ events }));
    }
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        while (next < bodies.length) {
          const i = next++;
          const server = servers[(i + c) % instances] as ServeProcess;
          const res = await fetch(`${server.url}/v1/orgs/bench/events`, {
            method: 'POST',
            headers,
            body: bodies[i] as string,
          });
          if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
          await res.arrayBuffer();
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `${instances} instance(s): ${TOTAL} events in ${seconds.toFixed(2)} s = ${Math.round(TOTAL / seconds)} events/s`,
    );
    await Promise.all(servers.map((s) => s.stop()));
  }
} finally {
  await pg.stop();
}
