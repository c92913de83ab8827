import { setFlagsFromString } from 'node:v8';
import { Command, Option } from 'commander';
import { evaluateAlerts } from '../../alerts/alerts-service.js';
import { startBackground } from '../../alerts/background.js';
import { signDashboardToken } from '../../api/dashboard-links.js';
import { buildServer } from '../../api/server.js';
import { createDemo } from '../../demo/demo-data.js';
import { openStore, redactedUrl } from '../../store/open-store.js';
import { dbOption } from '../db-option.js';

/** The operator key of `serve --demo` when env `SEATMETER_ADMIN_KEY` is not set. */
export const DEMO_ADMIN_KEY = 'demo-operator-key';

/** `seatmeter serve`: applies migrations, then serves the HTTP API until SIGINT or SIGTERM. */
export const serveCommand = (): Command =>
  new Command('serve')
    .description('apply migrations and run the HTTP server')
    .addOption(dbOption())
    .addOption(new Option('--port <n>', 'TCP port').env('PORT').default('8080'))
    .addOption(new Option('--host <host>', 'address to listen on').default('127.0.0.1'))
    .option('--demo', 'create the demo orgs first when the database has none')
    .action(async (opts: { db: string; port: string; host: string; demo?: boolean }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65_535)
        throw new Error(`--port: not a TCP port: ${opts.port}`);
      boundHeapGrowth();
      const store = openStore(opts.db);
      await store.migrate();
      // A variable set empty is one not set.
      const configuredKey = process.env.SEATMETER_ADMIN_KEY || undefined;
      const linkSecret = process.env.SEATMETER_LINK_SECRET || undefined;
      let adminKey = configuredKey;
      if (opts.demo) {
        const created = await createDemo(store, Date.now(), { onlyIntoEmpty: true });
        if (created.length > 0) {
          for (const org of await store.listOrgs()) await evaluateAlerts(store, org, Date.now());
          console.log(`created the demo orgs ${created.join(' and ')}`);
        }
        // A demo must be usable at once, and the README's curl must work as printed: without a
        // configured operator key, the demo uses a fixed one (the server listens on loopback).
        adminKey ??= DEMO_ADMIN_KEY;
      }
      const reportError = (error: unknown) =>
        console.error(`seatmeter: ${error instanceof Error ? error.message : String(error)}`);
      // The outbox (alert e-mails and webhooks) and automatic month closing run in every instance.
      const background = startBackground({
        store,
        smtpUrl: process.env.SEATMETER_SMTP_URL,
        mailFrom: process.env.SEATMETER_MAIL_FROM,
        retry: { baseMs: integerEnv('SEATMETER_RETRY_BASE_MS', 30_000) },
        pollMs: integerEnv('SEATMETER_OUTBOX_POLL_MS', 1_000),
        leaseMs: integerEnv('SEATMETER_OUTBOX_LEASE_MS', 60_000),
        onError: reportError,
      });
      const app = await buildServer({
        store,
        adminKey,
        linkSecret,
        allowPrivateWebhooks: process.env.SEATMETER_ALLOW_PRIVATE_WEBHOOKS === '1',
        publicUrl: publicUrlEnv(),
        trustProxy: process.env.SEATMETER_TRUST_PROXY === '1',
        rateLimitPerSecond: integerEnv('SEATMETER_RATE_LIMIT', 5_000),
        onAlertsRaised: () => background.outbox.kick(),
        onError: reportError,
      });
      const address = await app.listen({ port, host: opts.host });
      console.log(`seatmeter serving on ${address} (database ${redactedUrl(opts.db)})`);
      console.log(`dashboard: ${address}/dashboard/ (sign in with the operator key)`);
      if (opts.demo) {
        // A key from the environment is the operator's secret: not printed.
        const shownKey = configuredKey === undefined ? adminKey : '$SEATMETER_ADMIN_KEY';
        console.log(
          `operator key: ${configuredKey === undefined ? adminKey : 'as set in SEATMETER_ADMIN_KEY'}`,
        );
        const secret = linkSecret ?? adminKey;
        // The demo orgs go only into an empty database: on another, there may be no call centre.
        const callCentre = await store.getOrg('nordic-calls');
        if (secret && callCentre) {
          // A day-long signed link to the call centre's billing page, as a vendor's backend would ask for.
          const token = signDashboardToken(secret, 'nordic-calls', Date.now() + 86_400_000);
          console.log(`nordic-calls billing page: ${address}/dashboard/orgs/nordic-calls?token=${token}`);
        }
        const curlOrg = callCentre?.id ?? (await store.listOrgs())[0]?.id;
        if (curlOrg !== undefined) {
          console.log(`try: curl -H "Authorization: Bearer ${shownKey}" ${address}/v1/orgs/${curlOrg}/usage`);
        }
      }
      const stop = async () => {
        // Finish in-flight requests, take no new ones, then release the database.
        await app.close();
        await background.stop();
        await store.close();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

/** How far a heap may grow past what a full collection left live, unless configured (V8's flag). */
const HEAP_GROWING_PERCENT = 50;

/**
 * Bounds how far V8 lets each heap of this process (the main thread's and the parse worker's) grow
 * between full collections: env `SEATMETER_HEAP_GROWING_PERCENT` (default 50, `0` leaves V8's own
 * choice), unless node was started with `--heap-growing-percent` itself.
 *
 * V8 picks the factor from the heap's maximum, which it sizes from the machine's memory: on a
 * machine of 16 GB or more it lets a heap grow to four times what was live, which for a server
 * ingesting at full speed is mostly garbage. Over 10,000,000 events of HTTP ingest on this
 * project's 24 GiB machine, 50 % held the server's peak RSS to 226-243 MiB, against 270-335 MiB
 * with V8's choice, at the same rate and CPU (`BENCHMARKS.md`, thirteenth session). V8 reads the
 * flag at every full collection, so setting it after start takes effect (`--max-old-space-size`
 * would not: V8 sizes the heap once, at start).
 */
function boundHeapGrowth(): void {
  if (process.execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg))) return;
  const percent = integerEnv('SEATMETER_HEAP_GROWING_PERCENT', HEAP_GROWING_PERCENT, [0, 1_000]);
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/**
 * An integer from the environment within `[min, max]` (by default a positive one), or the default;
 * a bad value stops the server.
 */
function integerEnv(name: string, fallback: number, [min, max] = [1, Number.MAX_SAFE_INTEGER]): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    const wanted =
      min === 1 && max === Number.MAX_SAFE_INTEGER
        ? 'a positive integer'
        : `an integer from ${min} to ${max}`;
    throw new Error(`${name}: not ${wanted}: ${raw}`);
  }
  return n;
}

/**
 * `SEATMETER_PUBLIC_URL`, checked: an http(s) origin (scheme, host, port), or none. A path is
 * refused: the dashboard is served from `/dashboard/` and reads `/v1/` at the origin's root.
 */
function publicUrlEnv(): string | undefined {
  const raw = process.env.SEATMETER_PUBLIC_URL;
  if (raw === undefined || raw === '') return undefined;
  if (!/^https?:\/\/[^/?#\s]+\/?$/.test(raw)) {
    throw new Error(
      `SEATMETER_PUBLIC_URL: not an http(s) origin such as https://billing.example.com: ${raw}`,
    );
  }
  return raw;
}
