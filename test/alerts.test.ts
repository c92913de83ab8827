import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Background, startBackground } from '../src/alerts/background.js';
import { verifyWebhookSignature } from '../src/index.js';
import { validateBatch } from '../src/ingest/validate-batch.js';
import type { Store } from '../src/store/store.js';
import { BACKENDS } from './support/backends.js';
import { makeOrg, perLicensePlan, tieredPlan } from './support/fixtures.js';
import {
  eventually,
  type HookReceiver,
  type MailSink,
  startHookReceiver,
  startMailSink,
} from './support/mail-and-hooks.js';
import { type SocketServer, serveOnSocket } from './support/socket-server.js';

/**
 * Alerts end to end: raised through the API, sent by the outbox over a real SMTP server and to a
 * real HTTP receiver, retried, and picked up again after a restart.
 */
const ADMIN = 'operator-secret';
const NOW = Date.parse('2026-10-20T10:00:00Z');
const auth = { authorization: `Bearer ${ADMIN}` };
const FAST = { retry: { baseMs: 40 }, pollMs: 40 } as const;

interface AlertsAnswer {
  alerts: Array<{
    id: string;
    kind: string;
    month: string;
    value: number;
    allowance: number | null;
    message: string;
    createdAt: string;
    deliveries: Array<{
      channel: string;
      target: string;
      status: string;
      attempts: number;
      lastError: string | null;
      log: Array<{ ok: boolean; error: string | null }>;
    }>;
  }>;
  banner: { state: string; level: string; message: string } | null;
}

/** Events of `n` members today (local Copenhagen), ids unique per call through `tag`. */
const today = (tag: string, members: string[]) =>
  members.map((member, i) => ({
    id: `${tag}-${i}`,
    member,
    source: 'calls',
    occurredAt: '2026-10-20T09:00:00+02:00',
  }));

for (const make of BACKENDS) {
  const backend = make();
  describe(`alerts and deliveries (${backend.name})`, () => {
    let store: Store;
    let mail: MailSink;
    let hooks: HookReceiver;
    let background: Background | undefined;
    let app: SocketServer;
    let n = 0;
    let org = '';

    const call = (method: string, url: string, payload?: unknown) =>
      app.request({ method, url, headers: auth, ...(payload === undefined ? {} : { payload }) });
    const alerts = async () => (await call('GET', `/v1/orgs/${org}/alerts`)).json() as AlertsAnswer;
    const allDone = async () =>
      (await alerts()).alerts.every((a) => a.deliveries.every((d) => d.status !== 'pending'));

    beforeAll(async () => {
      store = await backend.open();
      [mail, hooks] = await Promise.all([startMailSink(), startHookReceiver()]);
    }, 120_000);
    afterAll(async () => {
      await background?.stop();
      await Promise.all([mail.close(), hooks.close()]);
      await store.close();
      await backend.teardown();
    });
    beforeEach(async () => {
      await background?.stop();
      await app?.close();
      background = startBackground({
        store,
        smtpUrl: mail.url,
        mailFrom: 'seatmeter <bills@seatmeter.example>',
        now: () => NOW,
        ...FAST,
      });
      app = await serveOnSocket({
        store,
        adminKey: ADMIN,
        now: () => NOW,
        allowPrivateWebhooks: true,
        onAlertsRaised: () => background?.outbox.kick(),
      });
      org = `org${n++}`;
      mail.messages.length = 0;
      mail.recipients.length = 0;
      hooks.received.length = 0;
      hooks.failNext = 0;
    });

    async function createOrg(over: Record<string, unknown> = {}) {
      const res = await call('POST', '/v1/orgs', {
        id: org,
        name: 'Nordic Calls',
        timezone: 'Europe/Copenhagen',
        counting: { presence: 'activity', aggregation: 'peak' },
        plan: perLicensePlan({ licenses: 20, minimumLicenses: 0 }),
        billingEmails: ['billing@nordic.example', 'cfo@nordic.example'],
        webhookUrl: hooks.url,
        ...over,
      });
      expect(res.statusCode).toBe(201);
      const read = (await call('GET', `/v1/orgs/${org}`)).json() as { webhookSecret: string | null };
      return read.webhookSecret;
    }

    it('raises approaching then breach once each, e-mails the billing contacts and posts a signed webhook', async () => {
      const secret = await createOrg();
      expect(secret).toMatch(/^whsec_/);
      const members = Array.from({ length: 25 }, (_, i) => `agent-${i}`);
      // 18 of 20: 90 %, nothing yet.
      await call('POST', `/v1/orgs/${org}/events`, { events: today('a', members.slice(0, 18)) });
      expect((await alerts()).alerts).toEqual([]);
      // 19 of 20: 95 %, approaching.
      await call('POST', `/v1/orgs/${org}/events`, { events: today('b', members.slice(18, 19)) });
      // Re-sent and more of the same: nothing new.
      await call('POST', `/v1/orgs/${org}/events`, { events: today('b', members.slice(18, 19)) });
      await call('POST', `/v1/orgs/${org}/events`, { events: today('c', members.slice(0, 19)) });
      // 21 of 20: breach.
      await call('POST', `/v1/orgs/${org}/events`, { events: today('d', members.slice(19, 21)) });
      await call('POST', `/v1/orgs/${org}/events`, { events: today('e', members.slice(21)) });

      await eventually(allDone, 'every delivery sent');
      const answer = await alerts();
      expect(answer.alerts.map((a) => [a.kind, a.month, a.value, a.allowance])).toEqual([
        ['breach', '2026-10', 21, 20],
        ['approaching', '2026-10', 19, 20],
      ]);
      for (const a of answer.alerts) {
        expect(a.deliveries.map((d) => [d.channel, d.target, d.status, d.attempts, d.lastError])).toEqual([
          ['email', 'billing@nordic.example', 'sent', 1, null],
          ['email', 'cfo@nordic.example', 'sent', 1, null],
          ['webhook', hooks.url, 'sent', 1, null],
        ]);
      }
      expect(answer.banner).toEqual({
        state: 'over',
        level: 'error',
        message: 'You are over your 20 licences: 25 to date this month.',
      });

      // E-mail: one per contact and alert, from the configured sender, telling the figures.
      expect(mail.messages).toHaveLength(4);
      expect(mail.recipients.flat().sort()).toEqual([
        'billing@nordic.example',
        'billing@nordic.example',
        'cfo@nordic.example',
        'cfo@nordic.example',
      ]);
      const approaching = mail.messages.find((m) => m.subject?.includes('approaching'));
      expect(approaching?.from?.value[0]).toMatchObject({
        name: 'seatmeter',
        address: 'bills@seatmeter.example',
      });
      expect(approaching?.subject).toBe('[seatmeter] Nordic Calls is approaching its licences (2026-10)');
      expect(approaching?.text).toContain('Projected usage for 2026-10 is 19 of 20 licences (95 %).');
      const breach = mail.messages.find((m) => m.subject?.includes('over its licences'));
      expect(breach?.text).toContain('Usage for 2026-10 is 21 to date, over the allowance of 20 licences.');

      // Webhook: one per alert, signed over "<t>.<raw body>" with the org's secret.
      expect(hooks.received).toHaveLength(2);
      for (const hook of hooks.received) {
        const header = String(hook.headers['seatmeter-signature']);
        const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
        expect(m).not.toBeNull();
        const expected = createHmac('sha256', secret as string)
          .update(`${m?.[1]}.${hook.body}`)
          .digest('hex');
        expect(m?.[2]).toBe(expected);
        expect(Math.abs(Number(m?.[1]) - Date.now() / 1000)).toBeLessThan(300);
        const forged = createHmac('sha256', 'whsec_other').update(`${m?.[1]}.${hook.body}`).digest('hex');
        expect(m?.[2]).not.toBe(forged);
        // The helper receivers can use agrees, and refuses a changed body, key or an old stamp.
        const nowSeconds = Date.now() / 1000;
        expect(verifyWebhookSignature(secret as string, header, hook.body, nowSeconds)).toBe(true);
        expect(verifyWebhookSignature(secret as string, header, `${hook.body} `, nowSeconds)).toBe(false);
        expect(verifyWebhookSignature('whsec_other', header, hook.body, nowSeconds)).toBe(false);
        expect(verifyWebhookSignature(secret as string, header, hook.body, nowSeconds + 600)).toBe(false);
      }
      const bodies = hooks.received.map((h) => JSON.parse(h.body));
      expect(bodies.map((b) => [b.type, b.org, b.alert.kind, b.alert.deliveries]).sort()).toEqual([
        ['alert.raised', org, 'approaching', undefined],
        ['alert.raised', org, 'breach', undefined],
      ]);
      expect(bodies.find((b) => b.alert.kind === 'breach').alert).toMatchObject({
        id: answer.alerts[0]?.id,
        month: '2026-10',
        value: 21,
        allowance: 20,
        createdAt: new Date(NOW).toISOString(),
      });
    });

    it('retries a failing receiver with backoff: two failures, then delivered on the third attempt', async () => {
      await createOrg({ billingEmails: [] });
      hooks.failNext = 2;
      const members = Array.from({ length: 21 }, (_, i) => `agent-${i}`);
      await call('POST', `/v1/orgs/${org}/events`, { events: today('a', members) });
      await eventually(allDone, 'the webhook delivered');
      const [breach, approaching] = (await alerts()).alerts;
      expect(approaching?.kind).toBe('approaching');
      // Both alerts' webhooks were sent; the first two calls (whichever alert) failed.
      const attempts = [breach, approaching].map((a) => a?.deliveries[0]);
      expect(attempts.every((d) => d?.status === 'sent')).toBe(true);
      expect(attempts.reduce((sum, d) => sum + (d?.attempts ?? 0), 0)).toBe(4);
      const retried = attempts.find((d) => (d?.attempts ?? 0) > 1);
      expect(retried?.log.map((l) => [l.ok, l.error])).toEqual(
        retried?.attempts === 3
          ? [
              [false, 'webhook answered HTTP 500'],
              [false, 'webhook answered HTTP 500'],
              [true, null],
            ]
          : [
              [false, 'webhook answered HTTP 500'],
              [true, null],
            ],
      );
      expect(hooks.received).toHaveLength(4);
      // Every attempt of one delivery carries the same alert.
      const ids = hooks.received.map((h) => JSON.parse(h.body).alert.id);
      expect(new Set(ids).size).toBe(2);
    });

    it('sends a delivery still pending at shutdown after a restart', async () => {
      await createOrg({ billingEmails: ['billing@nordic.example'] });
      // The receiver is down (answers 500) and the instance shuts down after the first attempt.
      hooks.failNext = 1_000;
      await call('POST', `/v1/orgs/${org}/events`, {
        events: today(
          'a',
          Array.from({ length: 19 }, (_, i) => `agent-${i}`),
        ),
      });
      await eventually(async () => {
        const [a] = (await alerts()).alerts;
        return a?.deliveries.find((d) => d.channel === 'webhook')?.attempts === 1;
      }, 'a first failed attempt');
      await background?.stop();
      background = undefined;
      const [pending] = (await alerts()).alerts;
      expect(pending?.deliveries.map((d) => [d.channel, d.status])).toEqual([
        ['email', 'sent'],
        ['webhook', 'pending'],
      ]);
      const received = hooks.received.length;
      hooks.failNext = 0;
      // A new instance (new outbox, new SMTP transport) picks it up.
      background = startBackground({ store, smtpUrl: mail.url, now: () => NOW, ...FAST });
      await eventually(allDone, 'the pending webhook sent by the restarted instance');
      const [sent] = (await alerts()).alerts;
      expect(sent?.deliveries.find((d) => d.channel === 'webhook')).toMatchObject({
        status: 'sent',
        attempts: 2,
      });
      expect(hooks.received.length).toBe(received + 1);
      expect(mail.messages).toHaveLength(1);
    });

    it('evaluates after plan changes and invites, raises cap_reached, and never alerts for history', async () => {
      await createOrg({ fairUseCap: 10 });
      // Last month, far over a small allowance: imported history does not alert.
      await call('POST', `/v1/orgs/${org}/events`, {
        events: ['a', 'b', 'c', 'd'].map((m, i) => ({
          id: `old-${i}`,
          member: m,
          source: 'calls',
          occurredAt: '2026-09-10T09:00:00+02:00',
        })),
      });
      await call('POST', `/v1/orgs/${org}/events`, { events: today('now', ['a', 'b']) });
      expect((await alerts()).alerts).toEqual([]);
      // Fewer licences: 2 of 2 is approaching (not a breach: 2 is not over 2).
      await call('PATCH', `/v1/orgs/${org}`, { licenses: 2 });
      expect((await alerts()).alerts.map((a) => a.kind)).toEqual(['approaching']);
      // Four active members under a cap of 5; inviting a fifth reaches it.
      await call('PATCH', `/v1/orgs/${org}`, { fairUseCap: 5 });
      expect((await alerts()).alerts).toHaveLength(1);
      const invited = await call('POST', `/v1/orgs/${org}/invites`, { email: 'x@nordic.example' });
      expect(invited.statusCode).toBe(201);
      const answer = await alerts();
      expect(answer.alerts.map((a) => a.kind)).toEqual(['cap_reached', 'approaching']);
      expect(answer.alerts[0]).toMatchObject({ value: 5, allowance: 5, month: '2026-10' });
      expect(answer.alerts[0]?.message).toBe(
        '5 active and invited users have reached the fair-use cap of 5: new invites are blocked.',
      );
      expect(answer.banner).toMatchObject({ state: 'capped', level: 'error' });
      const blocked = await call('POST', `/v1/orgs/${org}/invites`, { email: 'y@nordic.example' });
      expect(blocked.statusCode).toBe(409);
      await eventually(allDone, 'the alerts sent');
      expect((await alerts()).alerts).toHaveLength(2);
    });

    it('raises on the background round an alert that only time makes due, with no change to trigger it', async () => {
      // Status presence, average: 60 members whose activation on 20 September was recorded on the
      // 10th. Nothing changes afterwards, yet by the 25th the projected average passes 95 % of 20.
      // This test's rounds are the only ones: another instance's would skip them (the round's lock).
      await background?.stop();
      background = undefined;
      let clock = Date.parse('2026-09-10T08:00:00Z');
      await store.createOrg(
        makeOrg({
          id: org,
          counting: { presence: 'status', aggregation: 'average' },
          plan: tieredPlan(20),
          fairUseCap: null,
        }),
        clock,
      );
      for (let m = 0; m < 60; m++) {
        await store.putMember(org, { id: `user-${m}` }, clock);
        await store.appendStatus(org, `user-${m}`, 'active', Date.parse('2026-09-20T08:00:00Z'), clock);
      }
      const rounds = startBackground({ store, now: () => clock, closeEveryMs: 3_600_000 });
      try {
        await rounds.closeDue();
        expect(await store.raisedAlertKinds(org, '2026-09')).toEqual([]);
        // Recorded ahead: not active, nor counted against the cap, before the 20th.
        expect((await store.getMember(org, 'user-0'))?.status).toBeNull();
        expect(await store.activeAndInvited(org)).toBe(0);
        clock = Date.parse('2026-09-25T12:00:00Z');
        await rounds.closeDue();
        expect(await store.raisedAlertKinds(org, '2026-09')).toEqual(['approaching']);
        expect((await store.getMember(org, 'user-0'))?.status).toBe('active');
        expect(await store.activeAndInvited(org)).toBe(60);
      } finally {
        await rounds.stop();
      }
    });

    it('closes months automatically after the grace period, never earlier, and keeps late events apart', async () => {
      // This test's rounds are the only ones: another instance's would skip them (the round's lock).
      await background?.stop();
      background = undefined;
      // Created on 2026-09-10: August ended before the org existed and stays open.
      let clock = Date.parse('2026-09-10T08:00:00Z');
      const closing = startBackground({ store, now: () => clock, closeEveryMs: 3_600_000 });
      try {
        const created = await serveOnSocket({ store, adminKey: ADMIN, now: () => clock });
        try {
          const res = await created.request({
            method: 'POST',
            url: '/v1/orgs',
            headers: auth,
            payload: {
              id: org,
              name: 'Late Co',
              timezone: 'Europe/Copenhagen',
              counting: { presence: 'activity', aggregation: 'peak' },
              plan: perLicensePlan({ licenses: 20 }),
              autoCloseDays: 2,
            },
          });
          expect(res.statusCode).toBe(201);
        } finally {
          await created.close();
        }
        const events = (tag: string, at: string) =>
          ['a', 'b', 'c'].map((m, i) => ({ id: `${tag}${i}`, member: m, source: 'calls', occurredAt: at }));
        clock = Date.parse('2026-09-30T12:00:00Z');
        expect(await closing.closeDue()).toEqual([]);
        const batch = validateBatch(
          [...events('aug', '2026-08-20T10:00:00Z'), ...events('sep', '2026-09-12T10:00:00Z')],
          clock,
        );
        const stored = await store.getOrg(org);
        if (!batch.ok || !stored) throw new Error('bad fixture');
        await store.ingest(stored, batch.events, clock);
        // October 1st, 23:59 local on the 2nd: September ended less than 2 days ago.
        clock = Date.parse('2026-10-02T21:59:00Z');
        expect(await closing.closeDue()).toEqual([]);
        clock = Date.parse('2026-10-02T22:00:00Z');
        expect(await closing.closeDue()).toEqual([{ org, month: '2026-09' }]);
        expect(await closing.closeDue()).toEqual([]);
        expect(await store.closedMonths(org)).toEqual(['2026-09']);

        const statement = (await call('GET', `/v1/orgs/${org}/statements/2026-09`)).json() as {
          billable: { value: number };
          lateEvents: number;
          closedAt: string;
        };
        expect(statement).toMatchObject({
          billable: { value: 3 },
          lateEvents: 0,
          closedAt: '2026-10-02T22:00:00.000Z',
        });
        // Late events for September are stored and counted apart; the statement does not move.
        const late = await call('POST', `/v1/orgs/${org}/events`, {
          events: ['d', 'e'].map((m, i) => ({
            id: `late${i}`,
            member: m,
            source: 'calls',
            occurredAt: '2026-09-15T10:00:00Z',
          })),
        });
        expect(late.json()).toEqual({ accepted: 2, duplicates: 0, late: 2 });
        const after = (await call('GET', `/v1/orgs/${org}/statements/2026-09`)).json() as typeof statement;
        expect(after).toEqual({
          ...statement,
          lateEvents: 2,
          late: ['d', 'e'].map((member) => ({ date: '2026-09-15', member, source: 'calls', events: 1 })),
        });
        const usage = (await call('GET', `/v1/orgs/${org}/usage?month=2026-09`)).json() as Record<
          string,
          unknown
        >;
        expect(usage).toMatchObject({ closed: true, lateEvents: 2, billable: { value: 3 } });
        const august = (await call('GET', `/v1/orgs/${org}/usage?month=2026-08`)).json() as Record<
          string,
          unknown
        >;
        expect(august).toMatchObject({ closed: false, billable: { value: 3 } });
      } finally {
        await closing.stop();
      }
    });
  });
}
