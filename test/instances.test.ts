import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster } from './support/cluster.js';
import { perLicensePlan } from './support/fixtures.js';
import { type HttpAnswer, http } from './support/http.js';
import { eventually, type HookReceiver, type MailSink } from './support/mail-and-hooks.js';
import type { ServeProcess } from './support/serve-process.js';

/**
 * Three `seatmeter serve` processes behind a naive load balancer (the clients) on one PostgreSQL:
 * overlapping and re-sent batches through different instances, one instance killed with SIGKILL
 * mid-load. Counts stay exact, each alert is raised and sent once, a month closed from two
 * instances at once has one statement.
 */
const ADMIN = 'operator-secret';
const auth = { authorization: `Bearer ${ADMIN}` };
const MEMBERS = 80;
const EVENTS = 6_000;
const BATCH = 250;

interface Event {
  id: string;
  member: string;
  source: string;
  occurredAt: string;
}

describe('three server instances on one PostgreSQL', () => {
  let cluster: Cluster;
  let mail: MailSink;
  let hooks: HookReceiver;
  let servers: ServeProcess[];

  beforeAll(async () => {
    // A delivery the killed instance had claimed is taken over once its claim runs out.
    cluster = await startCluster(3, ADMIN, { SEATMETER_OUTBOX_LEASE_MS: '4000' });
    ({ mail, hooks, servers } = cluster);
  }, 120_000);
  afterAll(async () => {
    await cluster.stop();
  });

  it('keeps counts exact, alerts once and loses nothing acknowledged when an instance dies', async () => {
    const [a, b] = servers.map((s) => s.url) as [string, string, string];
    const created = await http(a, 'POST', '/v1/orgs', {
      headers: auth,
      payload: {
        id: 'busy',
        name: 'Busy Calls',
        timezone: 'UTC',
        counting: { presence: 'activity', aggregation: 'peak' },
        plan: perLicensePlan({ licenses: 50, minimumLicenses: 0 }),
        billingEmails: ['billing@busy.example'],
        webhookUrl: hooks.url,
      },
    });
    expect(created.statusCode).toBe(201);

    // Events of the month so far: event i falls on day i % (days so far).
    const now = new Date();
    const today = now.getUTCDate();
    const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    const events: Event[] = Array.from({ length: EVENTS }, (_, i) => {
      const day = i % today;
      const at = Math.min(
        monthStart + day * 86_400_000 + 3_600_000 + (i % 50) * 60_000,
        now.getTime() - 1_000,
      );
      return {
        id: `e${i}`,
        // Every member on every day so far, whatever the date: the day's events take the members
        // in turn (a member number tied to i alone gave as few as 10 a day on some dates).
        member: `m${Math.floor(i / today) % MEMBERS}`,
        source: i % 3 === 0 ? 'deals' : 'calls',
        occurredAt: new Date(at).toISOString(),
      };
    });
    // Overlapping batches: each starts half a batch after the last, so every event goes out twice,
    // and every batch is sent again through another instance.
    const batches: Event[][] = [];
    for (let start = 0; start < EVENTS; start += BATCH / 2) batches.push(events.slice(start, start + BATCH));
    const sends = batches.flatMap((batch, i) => [
      { batch, first: i % 3 },
      { batch, first: (i + 1) % 3 },
    ]);

    // Six clients; a failed call (the killed instance) is retried on the next instance, as a load
    // balancer would. Acknowledged events are those of an answered 200.
    const acknowledged = new Set<string>();
    let failures = 0;
    let killed = false;
    let next = 0;
    const post = async (target: number, batch: Event[]): Promise<HttpAnswer> => {
      for (let attempt = 0; attempt < 3; attempt++) {
        const server = servers[(target + attempt) % 3] as ServeProcess;
        try {
          const res = await http(server.url, 'POST', '/v1/orgs/busy/events', {
            headers: auth,
            payload: { events: batch },
          });
          if (res.statusCode === 200) return res;
          throw new Error(`HTTP ${res.statusCode}: ${res.body}`);
        } catch (error) {
          // Only the killed instance may fail; the load balancer then tries the next one.
          if (server !== servers[2] || !killed) throw error;
          failures++;
        }
      }
      throw new Error('no instance answered');
    };
    const client = async () => {
      while (next < sends.length) {
        const send = sends[next++] as (typeof sends)[number];
        // A third of the way in, the third instance dies mid-load.
        if (next === Math.floor(sends.length / 3)) {
          killed = true;
          servers[2]?.child.kill('SIGKILL');
        }
        const res = await post(send.first, send.batch);
        for (const e of send.batch) acknowledged.add(e.id);
        expect(res.json()).toMatchObject({ late: 0 });
      }
    };
    await Promise.all(Array.from({ length: 6 }, client));
    expect(servers[2]?.child.signalCode).toBe('SIGKILL');
    expect(acknowledged.size).toBe(EVENTS);

    // Exact daily counts and every event stored once.
    const expected = new Array<Set<string>>(today).fill(new Set()).map(() => new Set<string>());
    for (const e of events) expected[new Date(e.occurredAt).getUTCDate() - 1]?.add(e.member);
    const usage = (await http(b, 'GET', '/v1/orgs/busy/usage', { headers: auth })).json() as {
      days: Array<{ count: number }>;
    };
    expect(usage.days.slice(0, today).map((d) => d.count)).toEqual(expected.map((s) => s.size));
    const members = (await http(a, 'GET', '/v1/orgs/busy/usage/members', { headers: auth })).json() as {
      members: Array<{ sources: Record<string, number> }>;
    };
    const stored = members.members.reduce(
      (n, m) => n + Object.values(m.sources).reduce((x, y) => x + y, 0),
      0,
    );
    expect(stored).toBe(EVENTS);

    // Each alert raised once, and each delivery sent once, by whichever instance claimed it.
    type Alerts = {
      alerts: Array<{ kind: string; deliveries: Array<{ status: string; attempts: number }> }>;
    };
    await eventually(
      async () => {
        const got = (await http(a, 'GET', '/v1/orgs/busy/alerts', { headers: auth })).json() as Alerts;
        return (
          got.alerts.length === 2 && got.alerts.every((al) => al.deliveries.every((d) => d.status === 'sent'))
        );
      },
      'both alerts delivered',
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const alerts = (await http(b, 'GET', '/v1/orgs/busy/alerts', { headers: auth })).json() as Alerts;
    expect(alerts.alerts.map((al) => al.kind).sort()).toEqual(['approaching', 'breach']);
    expect(alerts.alerts.flatMap((al) => al.deliveries.map((d) => d.attempts))).toEqual([1, 1, 1, 1]);
    // A delivery in flight when its instance died may reach the receiver twice (at least once),
    // always under the same delivery id; by id, each of the four arrived, and was recorded once.
    const hookIds = new Map(hooks.received.map((h) => [String(h.headers['seatmeter-delivery']), h.body]));
    expect([...hookIds.values()].map((body) => JSON.parse(body).alert.kind).sort()).toEqual([
      'approaching',
      'breach',
    ]);
    for (const h of hooks.received) expect(h.body).toBe(hookIds.get(String(h.headers['seatmeter-delivery'])));
    expect(new Set(mail.messages.map((m) => m.messageId)).size).toBe(2);
    // At most twice each: by the instance that died holding the claim, and by the one taking over.
    const copies = new Map<string, number>();
    for (const id of [
      ...hooks.received.map((h) => String(h.headers['seatmeter-delivery'])),
      ...mail.messages.map((m) => String(m.messageId)),
    ])
      copies.set(id, (copies.get(id) ?? 0) + 1);
    expect(copies.size).toBe(4);
    expect(Math.max(...copies.values())).toBeLessThanOrEqual(2);

    // Last month closed from both live instances at once: one statement.
    const last = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
    const closes = await Promise.all(
      [a, b, a, b].map((base) => http(base, 'POST', `/v1/orgs/busy/months/${last}/close`, { headers: auth })),
    );
    expect(closes.map((r) => r.statusCode)).toEqual([200, 200, 200, 200]);
    expect(new Set(closes.map((r) => (r.json() as { closedAt: string }).closedAt)).size).toBe(1);
    console.log(`calls to the killed instance retried elsewhere: ${failures}`);
  });
});
