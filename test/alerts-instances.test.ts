import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster } from './support/cluster.js';
import { perLicensePlan } from './support/fixtures.js';
import { http } from './support/http.js';
import { eventually, type HookReceiver, type MailSink } from './support/mail-and-hooks.js';
import type { ServeProcess } from './support/serve-process.js';

/**
 * Two `seatmeter serve` processes on one PostgreSQL: batches that cross the thresholds reach both
 * at the same moment, and each alert is raised, e-mailed and posted once.
 */
const ADMIN = 'operator-secret';
const auth = { authorization: `Bearer ${ADMIN}` };
const ORGS = ['race-a', 'race-b', 'race-c', 'race-d'];

describe('alerts with two server instances on one PostgreSQL', () => {
  let cluster: Cluster;
  let mail: MailSink;
  let hooks: HookReceiver;
  let servers: ServeProcess[];

  beforeAll(async () => {
    cluster = await startCluster(2, ADMIN, { SEATMETER_MAIL_FROM: 'seatmeter@bills.example' });
    ({ mail, hooks, servers } = cluster);
  }, 120_000);
  afterAll(async () => {
    expect(await cluster.stop()).toEqual([0, 0]);
  });

  it('raises each alert once, and sends each delivery once, when both instances cross together', async () => {
    const [a, b] = servers.map((s) => s.url) as [string, string];
    for (const id of ORGS) {
      const created = await http(a, 'POST', '/v1/orgs', {
        headers: auth,
        payload: {
          id,
          name: id,
          timezone: 'UTC',
          counting: { presence: 'activity', aggregation: 'peak' },
          plan: perLicensePlan({ licenses: 10, minimumLicenses: 0 }),
          billingEmails: [`billing@${id}.example`],
          webhookUrl: hooks.url,
        },
      });
      expect(created.statusCode).toBe(201);
    }
    // Each org gets overlapping batches through both instances at once: 12 members of 10 each
    // time, the same events re-sent through the other instance, and fresh ids for the same people.
    const at = new Date(Date.now() - 1_000).toISOString();
    const batch = (tag: string) => ({
      events: Array.from({ length: 12 }, (_, i) => ({
        id: `${tag}-${i}`,
        member: `m${i}`,
        source: 'calls',
        occurredAt: at,
      })),
    });
    const answers = await Promise.all(
      ORGS.flatMap((org) =>
        ['x', 'x', 'y', 'y'].map((tag, i) =>
          http(i % 2 === 0 ? a : b, 'POST', `/v1/orgs/${org}/events`, { headers: auth, payload: batch(tag) }),
        ),
      ),
    );
    expect(answers.map((r) => (r.statusCode === 200 ? 200 : r.body))).toEqual(answers.map(() => 200));
    for (const org of ORGS) {
      const accepted = answers
        .slice(ORGS.indexOf(org) * 4, ORGS.indexOf(org) * 4 + 4)
        .reduce((sum, r) => sum + (r.json() as { accepted: number }).accepted, 0);
      expect(accepted).toBe(24);
    }

    const alertsOf = async (org: string, base: string) =>
      (await http(base, 'GET', `/v1/orgs/${org}/alerts`, { headers: auth })).json() as {
        alerts: Array<{ kind: string; deliveries: Array<{ status: string; attempts: number }> }>;
      };
    await eventually(async () => {
      const all = await Promise.all(ORGS.map((org) => alertsOf(org, b)));
      return all.every(
        (x) =>
          x.alerts.length === 2 && x.alerts.every((al) => al.deliveries.every((d) => d.status === 'sent')),
      );
    }, 'every alert delivered');
    // Let both outboxes poll a few more times: nothing goes out twice.
    await new Promise((resolve) => setTimeout(resolve, 500));

    for (const org of ORGS) {
      const seen = await alertsOf(org, a);
      expect(seen.alerts.map((al) => al.kind).sort()).toEqual(['approaching', 'breach']);
      for (const al of seen.alerts) expect(al.deliveries.map((d) => d.attempts)).toEqual([1, 1]);
      expect(seen).toEqual(await alertsOf(org, b));
    }
    const posted = hooks.received.map((h) => JSON.parse(h.body) as { org: string; alert: { kind: string } });
    expect(posted.map((p) => `${p.org}/${p.alert.kind}`).sort()).toEqual(
      ORGS.flatMap((org) => [`${org}/approaching`, `${org}/breach`]).sort(),
    );
    expect(mail.recipients.flat().sort()).toEqual(
      ORGS.flatMap((org) => [`billing@${org}.example`, `billing@${org}.example`]).sort(),
    );
  });
});
