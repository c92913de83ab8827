import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateBatch } from '../src/ingest/validate-batch.js';
import type { Store } from '../src/store/store.js';
import { BACKENDS } from './support/backends.js';
import { tieredPlan } from './support/fixtures.js';
import { type SocketServer, serveOnSocket } from './support/socket-server.js';

const ADMIN = 'operator-secret';
const NOW = Date.parse('2026-10-20T12:00:00Z');
const auth = { authorization: `Bearer ${ADMIN}` };

for (const make of BACKENDS) {
  const backend = make();
  describe(`HTTP API: orgs and usage (${backend.name})`, () => {
    let store: Store;
    let app: SocketServer;
    beforeAll(async () => {
      store = await backend.open();
      app = await serveOnSocket({ store, adminKey: ADMIN, now: () => NOW });
    });
    afterAll(async () => {
      await app.close();
      await store.close();
      await backend.teardown();
    });

    it('refuses calls without a valid key with 401', async () => {
      const none = await app.request({ method: 'GET', url: '/v1/orgs' });
      expect(none.statusCode).toBe(401);
      expect(none.json()).toMatchObject({ error: { code: 'unauthorized' } });
      const wrong = await app.request({
        method: 'GET',
        url: '/v1/orgs',
        headers: { authorization: 'Bearer nope' },
      });
      expect(wrong.statusCode).toBe(401);
    });

    it('creates an org with defaults (201), and a taken id is 409', async () => {
      const res = await app.request({
        method: 'POST',
        url: '/v1/orgs',
        headers: auth,
        payload: {
          id: 'app',
          name: 'App Co',
          plan: tieredPlan(50),
          counting: { presence: 'status', aggregation: 'average' },
        },
      });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({
        id: 'app',
        timezone: 'UTC',
        fairUseCap: 10_000,
        billingEmails: [],
        webhookUrl: null,
        plan: { type: 'tiered', subscribedUpTo: 50 },
      });
      const again = await app.request({
        method: 'POST',
        url: '/v1/orgs',
        headers: auth,
        payload: { id: 'app', name: 'App Co', plan: tieredPlan(50) },
      });
      expect(again.statusCode).toBe(409);
    });

    it('names every bad field with 400', async () => {
      const res = await app.request({
        method: 'POST',
        url: '/v1/orgs',
        headers: auth,
        payload: {
          id: 'Bad Id',
          name: 'x',
          timezone: 'Mars/Base',
          plan: { ...tieredPlan(30), currency: 'usd' },
        },
      });
      expect(res.statusCode).toBe(400);
      const fields = (res.json() as { error: { details: Array<{ field: string }> } }).error.details.map(
        (d) => d.field,
      );
      expect(fields).toEqual(expect.arrayContaining(['id', 'timezone', 'plan.currency']));
      const semantic = await app.request({
        method: 'POST',
        url: '/v1/orgs',
        headers: auth,
        payload: { id: 'semantic', name: 'x', plan: tieredPlan(30) },
      });
      expect(semantic.statusCode).toBe(400);
      expect(semantic.json()).toMatchObject({ error: { details: [{ field: 'plan.subscribedUpTo' }] } });
    });

    it('names the plan rules and the webhook scheme together with the other bad fields', async () => {
      const res = await app.request({
        method: 'POST',
        url: '/v1/orgs',
        headers: auth,
        payload: {
          id: 'BAD',
          name: 'x',
          plan: {
            ...tieredPlan(30),
            tiers: [
              { upTo: 50, price: 1 },
              { upTo: 20, price: 2 },
            ],
          },
          webhookUrl: 'ftp://hooks.example/x',
        },
      });
      expect(res.statusCode).toBe(400);
      const fields = (res.json() as { error: { details: Array<{ field: string }> } }).error.details.map(
        (d) => d.field,
      );
      expect(fields.sort()).toEqual(['id', 'plan.subscribedUpTo', 'plan.tiers.1.upTo', 'webhookUrl']);
    });

    it('takes fewer licences than the minimum and charges the minimum', async () => {
      const res = await app.request({
        method: 'POST',
        url: '/v1/orgs',
        headers: auth,
        payload: {
          id: 'minimum',
          name: 'Minimum',
          plan: { type: 'per_license', currency: 'EUR', unitPrice: 100, minimumLicenses: 5, licenses: 2 },
        },
      });
      expect(res.statusCode).toBe(201);
      const usage = await app.request({ method: 'GET', url: '/v1/orgs/minimum/usage', headers: auth });
      expect(usage.json()).toMatchObject({
        allowance: 5,
        charge: { licenses: 5, amount: 500, overage: 0, tierUpTo: null },
      });
    });

    it('patches a plan by the fields that change, or whole when its type changes', async () => {
      const patch = async (payload: object) =>
        app.request({ method: 'PATCH', url: '/v1/orgs/minimum', headers: auth, payload });
      const licences = await patch({ plan: { licenses: 12 } });
      expect(licences.statusCode).toBe(200);
      expect(licences.json()).toMatchObject({
        plan: { type: 'per_license', currency: 'EUR', unitPrice: 100, minimumLicenses: 5, licenses: 12 },
      });
      const bad = await patch({ plan: { licenses: -1, currency: 'eur' } });
      expect(bad.statusCode).toBe(400);
      const fields = (bad.json() as { error: { details: Array<{ field: string }> } }).error.details.map(
        (d) => d.field,
      );
      expect(fields.sort()).toEqual(['plan.currency', 'plan.licenses']);
      // A field of the other type of plan, and every bad field at once.
      const foreign = await patch({ plan: { subscribedUpTo: 50 }, webhookUrl: 'http://127.0.0.1/x' });
      expect(foreign.statusCode).toBe(400);
      expect(
        (foreign.json() as { error: { details: Array<{ field: string }> } }).error.details.map(
          (d) => d.field,
        ),
      ).toEqual(['plan.subscribedUpTo', 'webhookUrl']);
      // Another type needs its whole plan.
      expect((await patch({ plan: { type: 'tiered', subscribedUpTo: 50 } })).statusCode).toBe(400);
      const tiered = await patch({ plan: tieredPlan(50) });
      expect(tiered.json()).toMatchObject({ plan: { type: 'tiered', subscribedUpTo: 50 } });
      const tier = await patch({ plan: { subscribedUpTo: 100 } });
      expect(tier.json()).toMatchObject({ plan: { type: 'tiered', subscribedUpTo: 100 } });
      expect((await patch({ tier: 20 })).json()).toMatchObject({ plan: { subscribedUpTo: 20 } });
      expect((await patch({ subscribedUpTo: 100 })).json()).toMatchObject({ plan: { subscribedUpTo: 100 } });
      const notATier = await patch({ plan: { subscribedUpTo: 30 } });
      expect(notATier.json()).toMatchObject({ error: { details: [{ field: 'plan.subscribedUpTo' }] } });
      const org = await app.request({ method: 'GET', url: '/v1/orgs/minimum', headers: auth });
      expect(org.json()).toMatchObject({ plan: { subscribedUpTo: 100 } });
    });

    it('reads, patches and lists orgs with their usage; unknown orgs are 404', async () => {
      expect((await app.request({ method: 'GET', url: '/v1/orgs/nope', headers: auth })).statusCode).toBe(
        404,
      );
      const patched = await app.request({
        method: 'PATCH',
        url: '/v1/orgs/app',
        headers: auth,
        payload: { subscribedUpTo: 100, webhookUrl: 'https://hooks.example/seatmeter' },
      });
      expect(patched.statusCode).toBe(200);
      expect(patched.json()).toMatchObject({
        plan: { subscribedUpTo: 100 },
        webhookSecret: expect.stringMatching(/^whsec_/),
      });
      for (const url of [
        'http://127.0.0.1:9/x',
        'http://localhost/x',
        'http://10.1.2.3/x',
        'http://[::1]/x',
        'ftp://hooks.example/x',
      ]) {
        const refused = await app.request({
          method: 'PATCH',
          url: '/v1/orgs/app',
          headers: auth,
          payload: { webhookUrl: url },
        });
        expect(refused.statusCode).toBe(400);
        expect(refused.json()).toMatchObject({ error: { details: [{ field: 'webhookUrl' }] } });
      }
      const open = await serveOnSocket({
        store,
        adminKey: ADMIN,
        now: () => NOW,
        allowPrivateWebhooks: true,
      });
      const allowed = await open.request({
        method: 'PATCH',
        url: '/v1/orgs/app',
        headers: auth,
        payload: { webhookUrl: 'http://127.0.0.1:9/x' },
      });
      expect(allowed.statusCode).toBe(200);
      await open.close();
      await app.request({
        method: 'PATCH',
        url: '/v1/orgs/app',
        headers: auth,
        payload: { webhookUrl: 'https://hooks.example/seatmeter' },
      });
      const wrongPlan = await app.request({
        method: 'PATCH',
        url: '/v1/orgs/app',
        headers: auth,
        payload: { licenses: 4 },
      });
      expect(wrongPlan.json()).toMatchObject({ error: { details: [{ field: 'licenses' }] } });
      const list = await app.request({ method: 'GET', url: '/v1/orgs', headers: auth });
      const { orgs } = list.json() as { orgs: Array<{ id: string }> };
      expect(orgs.map((o) => o.id).sort()).toEqual(['app', 'minimum']);
      expect(orgs.find((o) => o.id === 'app')).toMatchObject({
        usage: {
          allowance: 100,
          state: 'ok',
          billable: { numerator: 0, denominator: 31 },
          projected: { numerator: 0, denominator: 31 },
        },
      });
    });

    it('answers usage for a month with the worked example figures', async () => {
      await app.request({
        method: 'POST',
        url: '/v1/orgs',
        headers: auth,
        payload: { id: 'calls', name: 'Calls', timezone: 'Europe/Copenhagen', plan: tieredPlan(50) },
      });
      const org = await store.getOrg('calls');
      if (!org) throw new Error('org missing');
      const events = [];
      for (let d = 1; d <= 30; d++) {
        const n = d <= 10 ? 40 : d <= 20 ? 80 : 60;
        for (let i = 0; i < n; i++) {
          events.push({
            id: `${d}-${i}`,
            member: `m${i}`,
            source: 'calls',
            occurredAt: `2026-09-${String(d).padStart(2, '0')}T10:00:00+02:00`,
          });
        }
      }
      const v = validateBatch(events, NOW);
      if (!v.ok) throw new Error('bad events');
      await store.ingest(org, v.events, NOW);
      const peak = await app.request({
        method: 'GET',
        url: '/v1/orgs/calls/usage?month=2026-09',
        headers: auth,
      });
      expect(peak.json()).toMatchObject({
        billable: { value: 80, numerator: 80, denominator: 1 },
        charge: { tierUpTo: 100 },
      });
      await app.request({
        method: 'PATCH',
        url: '/v1/orgs/calls',
        headers: auth,
        payload: { counting: { presence: 'activity', aggregation: 'average' } },
      });
      const avg = await app.request({
        method: 'GET',
        url: '/v1/orgs/calls/usage?month=2026-09',
        headers: auth,
      });
      expect(avg.json()).toMatchObject({
        org: 'calls',
        month: '2026-09',
        daysInMonth: 30,
        closed: false,
        current: null,
        billable: { value: 60, numerator: 1800, denominator: 30 },
        allowance: 50,
        state: 'over',
        charge: { currency: 'USD', amount: 35_000, tierUpTo: 100, licenses: null, overage: null },
      });
      const bad = await app.request({
        method: 'GET',
        url: '/v1/orgs/calls/usage?month=2026-13',
        headers: auth,
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ error: { details: [{ field: 'month' }] } });
    });

    it('answers 413 for a body above the limit, and 404 in the error format for unknown routes', async () => {
      const small = await serveOnSocket({ store, adminKey: ADMIN, now: () => NOW, bodyLimit: 1024 });
      const res = await small.request({
        method: 'POST',
        url: '/v1/orgs/calls/events',
        headers: { ...auth, 'content-type': 'application/json' },
        payload: JSON.stringify({ events: [{ id: 'x'.repeat(2000) }] }),
      });
      expect(res.statusCode).toBe(413);
      expect(res.json()).toMatchObject({ error: { code: 'payload_too_large' } });
      const missing = await small.request({ method: 'GET', url: '/v1/nothing-here', headers: auth });
      expect(missing.statusCode).toBe(404);
      expect(missing.json()).toMatchObject({ error: { code: 'not_found' } });
      await small.close();
    });

    it('answers 429 with Retry-After past the per-key rate limit', async () => {
      const limited = await serveOnSocket({ store, adminKey: ADMIN, now: () => NOW, rateLimitPerSecond: 3 });
      const codes = [];
      // Windows are whole seconds (shared through the database on PostgreSQL): start just after one
      // begins so the five requests fall in the same window.
      await new Promise((resolve) => setTimeout(resolve, 1_005 - (Date.now() % 1_000)));
      for (let i = 0; i < 5; i++)
        codes.push(await limited.request({ method: 'GET', url: '/v1/orgs/app', headers: auth }));
      expect(codes.map((r) => r.statusCode)).toEqual([200, 200, 200, 429, 429]);
      expect(codes[3]?.headers['retry-after']).toBeDefined();
      expect(codes[3]?.json()).toMatchObject({ error: { code: 'rate_limited' } });
      // Another key has its own budget.
      const other = await limited.request({
        method: 'GET',
        url: '/v1/orgs/app',
        headers: { authorization: 'Bearer x' },
      });
      expect(other.statusCode).toBe(401);
      await limited.close();
    });

    if (backend.name === 'postgres') {
      it('shares the budget of a key between server instances on one PostgreSQL', async () => {
        const [a, b] = await Promise.all(
          [0, 1].map(() => serveOnSocket({ store, adminKey: ADMIN, now: () => NOW, rateLimitPerSecond: 3 })),
        );
        if (!a || !b) throw new Error('servers did not start');
        await new Promise((resolve) => setTimeout(resolve, 1_005 - (Date.now() % 1_000)));
        const codes = [];
        for (const server of [a, b, a, b, a])
          codes.push(
            (await server.request({ method: 'GET', url: '/v1/orgs/app', headers: auth })).statusCode,
          );
        // Alternating instances, one budget: each in memory would have let all five through.
        expect(codes).toEqual([200, 200, 200, 429, 429]);
        await Promise.all([a.close(), b.close()]);
      });
    }

    it('publishes the OpenAPI document from the same schemas, answers included', async () => {
      interface JsonSchema {
        properties?: Record<string, unknown>;
        required?: string[];
        additionalProperties?: unknown;
      }
      const doc = (await app.request({ method: 'GET', url: '/v1/openapi.json' })).json() as {
        openapi: string;
        paths: Record<
          string,
          Record<
            string,
            { responses: Record<string, { content: { 'application/json': { schema: JsonSchema } } }> }
          >
        >;
        components: { securitySchemes: Record<string, unknown> };
      };
      expect(doc.openapi).toMatch(/^3\./);
      const errors = ['400', '401', '403', '404', '409', '413', '429'];
      // The routes that create answer 201, the others 200; every route documents its errors.
      for (const [path, method] of [
        ['/v1/orgs', 'post'],
        ['/v1/orgs/{org}/keys', 'post'],
        ['/v1/orgs/{org}/invites', 'post'],
        ['/v1/orgs/{org}/dashboard-links', 'post'],
      ] as const) {
        expect(Object.keys(doc.paths[path]?.[method]?.responses ?? {})).toEqual(['201', ...errors]);
      }
      for (const [path, methods] of Object.entries(doc.paths)) {
        if (path === '/v1/openapi.json' || !path.startsWith('/v1/')) continue;
        for (const [method, route] of Object.entries(methods)) {
          const codes = Object.keys(route.responses);
          expect(
            codes.filter((c) => c.startsWith('2')),
            `${method} ${path}`,
          ).toHaveLength(1);
          expect(codes, `${method} ${path}`).toEqual(expect.arrayContaining(errors));
        }
      }
      // An answer's schema names the spec's fields, and allows more ("more fields may be added").
      const usage =
        doc.paths['/v1/orgs/{org}/usage']?.get?.responses['200']?.content['application/json'].schema;
      expect(usage?.required).toEqual(
        expect.arrayContaining([
          'days',
          'current',
          'toDate',
          'projected',
          'billable',
          'allowance',
          'state',
          'charge',
        ]),
      );
      expect(usage?.additionalProperties).not.toBe(false);
      const statement =
        doc.paths['/v1/orgs/{org}/statements/{month}']?.get?.responses['200']?.content['application/json']
          .schema;
      expect(Object.keys(statement?.properties ?? {})).toEqual(
        expect.arrayContaining(['closedAt', 'plan', 'days', 'billable', 'allowance', 'charge', 'lateEvents']),
      );
      expect(doc.components.securitySchemes).toEqual({ bearer: { type: 'http', scheme: 'bearer' } });
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          '/v1/orgs',
          '/v1/orgs/{org}',
          '/v1/orgs/{org}/keys',
          '/v1/orgs/{org}/projects/{project}',
          '/v1/orgs/{org}/teams/{team}',
          '/v1/orgs/{org}/members/{member}',
          '/v1/orgs/{org}/members/{member}/status',
          '/v1/orgs/{org}/invites/check',
          '/v1/orgs/{org}/invites',
          '/v1/orgs/{org}/events',
          '/v1/orgs/{org}/usage',
          '/v1/orgs/{org}/usage/members',
          '/v1/orgs/{org}/usage/projects',
          '/v1/orgs/{org}/alerts',
          '/v1/orgs/{org}/months/{month}/close',
          '/v1/orgs/{org}/statements/{month}',
          '/v1/orgs/{org}/dashboard-links',
        ]),
      );
    });
  });
}
