import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newApiKey, StoredKeys } from '../src/api/auth.js';
import type { Store } from '../src/store/store.js';
import { BACKENDS } from './support/backends.js';
import { perLicensePlan } from './support/fixtures.js';
import { type SocketServer, serveOnSocket } from './support/socket-server.js';

const ADMIN = 'operator-secret';
const NOW = Date.parse('2026-10-20T12:00:00Z');

for (const make of BACKENDS) {
  const backend = make();
  describe(`HTTP API: org keys, scopes and isolation (${backend.name})`, () => {
    let store: Store;
    let app: SocketServer;
    const as = (key: string) => (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
      app.request({
        method,
        url,
        headers: { authorization: `Bearer ${key}` },
        ...(payload ? { payload } : {}),
      });
    const operator = () => as(ADMIN);
    const keys: Record<string, string> = {};

    beforeAll(async () => {
      store = await backend.open();
      app = await serveOnSocket({ store, adminKey: ADMIN, now: () => NOW });
      for (const id of ['alpha', 'beta']) {
        await operator()('POST', '/v1/orgs', {
          id,
          name: id,
          plan: perLicensePlan(),
          webhookUrl: 'https://hooks.example/x',
        });
      }
      for (const [name, org, scopes] of [
        ['alphaRead', 'alpha', ['read']],
        ['alphaIngest', 'alpha', ['ingest']],
        ['alphaAdmin', 'alpha', ['admin', 'read']],
        ['alphaAdminOnly', 'alpha', ['admin']],
      ] as const) {
        const res = await operator()('POST', `/v1/orgs/${org}/keys`, { scopes: [...scopes] });
        expect(res.statusCode).toBe(201);
        keys[name] = (res.json() as { key: string }).key;
      }
    });
    afterAll(async () => {
      await app.close();
      await store.close();
      await backend.teardown();
    });

    it('shows a key once and stores only a hash of it', async () => {
      const key = keys.alphaRead as string;
      expect(key).toMatch(/^sm_alpha\./);
      const stored = await store.getApiKey('alpha', key.split('.')[1] as string);
      expect(stored?.secretHash).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(stored)).not.toContain(key.split('.')[2]);
    });

    it('lets a read key read its own org, without the webhook secret', async () => {
      const res = await as(keys.alphaRead as string)('GET', '/v1/orgs/alpha');
      expect(res.statusCode).toBe(200);
      expect(res.json()).not.toHaveProperty('webhookSecret');
      const admin = await as(keys.alphaAdmin as string)('GET', '/v1/orgs/alpha');
      expect(admin.json()).toMatchObject({ webhookSecret: expect.stringMatching(/^whsec_/) });
    });

    it('answers 404 for another org, 403 for a missing scope, 401 for a forged key', async () => {
      const read = as(keys.alphaRead as string);
      expect((await read('GET', '/v1/orgs/beta')).statusCode).toBe(404);
      expect((await read('GET', '/v1/orgs/beta/usage')).statusCode).toBe(404);
      expect((await read('GET', '/v1/orgs/beta/alerts')).statusCode).toBe(404);
      expect((await read('GET', '/v1/orgs/alpha/alerts')).json()).toEqual({ alerts: [], banner: null });
      expect((await read('POST', '/v1/orgs/alpha/events', { events: [] })).statusCode).toBe(403);
      expect((await read('PATCH', '/v1/orgs/alpha', { licenses: 9 })).statusCode).toBe(403);
      expect((await read('GET', '/v1/orgs')).statusCode).toBe(403);
      expect((await read('POST', '/v1/orgs/alpha/keys', { scopes: ['admin'] })).statusCode).toBe(403);
      const ingest = as(keys.alphaIngest as string);
      expect((await ingest('POST', '/v1/orgs/alpha/events', { events: [] })).json()).toEqual({
        accepted: 0,
        duplicates: 0,
        late: 0,
      });
      expect((await ingest('POST', '/v1/orgs/beta/events', { events: [] })).statusCode).toBe(404);
      expect((await ingest('GET', '/v1/orgs/alpha/usage')).statusCode).toBe(403);
      expect((await ingest('GET', '/v1/orgs/alpha/alerts')).statusCode).toBe(403);
      const forged = (keys.alphaAdmin as string).replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
      expect((await as(forged)('GET', '/v1/orgs/alpha')).statusCode).toBe(401);
      expect((await as(forged.replace('sm_alpha', 'sm_beta'))('GET', '/v1/orgs/beta')).statusCode).toBe(401);
      expect(
        (await as(keys.alphaAdmin as string)('PATCH', '/v1/orgs/alpha', { licenses: 9 })).statusCode,
      ).toBe(200);
    });

    it('gives an admin key every scope of its org, and only of its org', async () => {
      const admin = as(keys.alphaAdminOnly as string);
      const org = await admin('GET', '/v1/orgs/alpha');
      expect(org.statusCode).toBe(200);
      expect(org.json()).toMatchObject({ webhookSecret: expect.stringMatching(/^whsec_/) });
      expect((await admin('GET', '/v1/orgs/alpha/usage?month=2026-10')).statusCode).toBe(200);
      expect((await admin('POST', '/v1/orgs/alpha/events', { events: [] })).statusCode).toBe(200);
      expect((await admin('GET', '/v1/orgs/beta')).statusCode).toBe(404);
      expect((await admin('GET', '/v1/orgs')).statusCode).toBe(403);
    });

    it('reads each stored key once, keeps only keys found, and the most recently used', async () => {
      const asked: string[] = [];
      const kept = new StoredKeys(
        {
          getApiKey: (orgId, keyId) => {
            asked.push(keyId);
            return store.getApiKey(orgId, keyId);
          },
        },
        2,
      );
      const made = [];
      for (let i = 0; i < 3; i++) {
        const { stored } = newApiKey('beta', ['read']);
        await store.saveApiKey('beta', stored, NOW);
        made.push(stored);
      }
      const [a, b, c] = made.map((key) => key.keyId) as [string, string, string];
      expect(await kept.get('beta', a)).toEqual(made[0]);
      expect(await kept.get('beta', a)).toEqual(made[0]);
      expect(await kept.get('beta', '0123456789abcdef')).toBeUndefined();
      expect(await kept.get('beta', '0123456789abcdef')).toBeUndefined();
      expect(await kept.get('alpha', a)).toBeUndefined();
      expect(asked).toEqual([a, '0123456789abcdef', '0123456789abcdef', a]);
      // Two keys fit: using a again makes b the least recently used, which c pushes out.
      await kept.get('beta', b);
      await kept.get('beta', a);
      await kept.get('beta', c);
      asked.length = 0;
      for (const keyId of [a, c, b]) await kept.get('beta', keyId);
      expect(asked).toEqual([b]);
    });

    it('checks the secret of a key it has read before', async () => {
      const admin = as(keys.alphaAdmin as string);
      expect((await admin('GET', '/v1/orgs/alpha')).statusCode).toBe(200);
      const [prefix, keyId, secret] = (keys.alphaAdmin as string).split('.') as [string, string, string];
      const forged = `${prefix}.${keyId}.${[...secret].reverse().join('')}`;
      expect((await as(forged)('GET', '/v1/orgs/alpha')).statusCode).toBe(401);
      expect((await admin('GET', '/v1/orgs/alpha')).statusCode).toBe(200);
    });

    it('checks the key before the request: 401 without one, 404 for another org, then 400', async () => {
      const anonymous = (method: string, url: string, payload?: unknown) =>
        app.request({ method, url, ...(payload === undefined ? {} : { payload }) });
      expect((await anonymous('POST', '/v1/orgs', {})).statusCode).toBe(401);
      expect((await anonymous('POST', '/v1/orgs/alpha/events', { events: 'no' })).statusCode).toBe(401);
      expect((await anonymous('GET', '/v1/orgs/alpha/usage?month=x')).statusCode).toBe(401);
      const read = as(keys.alphaRead as string);
      expect((await read('GET', '/v1/orgs/beta/usage?month=x')).statusCode).toBe(404);
      expect((await read('GET', '/v1/orgs/alpha/usage?month=x')).statusCode).toBe(400);
      expect((await anonymous('GET', '/v1/openapi.json')).statusCode).toBe(200);
    });

    it('limits requests with a bad key like any others', async () => {
      const limited = await serveOnSocket({ store, adminKey: ADMIN, now: () => NOW, rateLimitPerSecond: 3 });
      try {
        const forged = `${(keys.alphaRead as string).slice(0, -4)}AAAA`;
        const codes = [];
        for (let i = 0; i < 10; i++) {
          const res = await limited.request({
            method: 'GET',
            url: '/v1/orgs/alpha',
            headers: { authorization: `Bearer ${forged}` },
          });
          codes.push(res.statusCode);
        }
        expect(codes.slice(0, 3)).toEqual([401, 401, 401]);
        expect(codes.slice(3)).toContain(429);
      } finally {
        await limited.close();
      }
    });

    it('reads every body as JSON whatever its content type, and an empty body as none', async () => {
      const events = JSON.stringify({
        events: [{ id: 'ct-1', member: 'ann', source: 'calls', occurredAt: '2026-10-20T09:00:00Z' }],
      });
      const post = (type: string, payload: string) =>
        app.request({
          method: 'POST',
          url: '/v1/orgs/alpha/events',
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': type },
          payload,
        });
      const answers = [];
      for (const type of ['text/plain;charset=UTF-8', 'application/x-www-form-urlencoded']) {
        const res = await post(type, events);
        answers.push([res.statusCode, res.json()]);
      }
      // No Content-Type at all (fetch always sends one with a body).
      const untyped = await new Promise<[number, unknown]>((resolve, reject) => {
        const req = request(`${app.base}/v1/orgs/alpha/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN}`, 'content-length': Buffer.byteLength(events) },
        });
        req.on('response', (res) => {
          let text = '';
          res.on('data', (chunk) => {
            text += chunk;
          });
          res.on('end', () => resolve([res.statusCode ?? 0, JSON.parse(text)]));
        });
        req.on('error', reject);
        req.end(events);
      });
      answers.push(untyped);
      expect(answers).toEqual([
        [200, { accepted: 1, duplicates: 0, late: 0 }],
        [200, { accepted: 0, duplicates: 1, late: 0 }],
        [200, { accepted: 0, duplicates: 1, late: 0 }],
      ]);
      const broken = await post('text/plain', '{"events": [');
      expect(broken.statusCode).toBe(400);
      const empty = await post('application/json', '');
      expect(empty.statusCode).toBe(400);
      expect(empty.json()).toMatchObject({ error: { code: 'invalid_request' } });
    });

    it('makes signed dashboard links that open their org only, and not after they expire', async () => {
      const made = await as(keys.alphaAdmin as string)('POST', '/v1/orgs/alpha/dashboard-links', {
        ttlSeconds: 60,
      });
      expect(made.statusCode).toBe(201);
      const { url, expiresAt } = made.json() as { url: string; expiresAt: string };
      expect(Date.parse(expiresAt)).toBe(NOW + 60_000);
      const path = new URL(url).pathname + new URL(url).search;
      const page = await app.request({ method: 'GET', url: path });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toContain('text/html');
      expect(page.body).toMatch(
        /<script type="module" crossorigin src="\/dashboard\/assets\/index-[\w-]+\.js">/,
      );
      expect(page.headers['referrer-policy']).toBe('no-referrer');
      const script = /src="(\/dashboard\/assets\/[^"]+)"/.exec(page.body)?.[1] as string;
      const asset = await app.request({ method: 'GET', url: script });
      expect(asset.statusCode).toBe(200);
      expect(asset.headers['content-type']).toContain('javascript');
      const token = new URL(url).searchParams.get('token') as string;
      // The page reads with the link's token: its own org, read only, until it expires.
      const link = as(`dash_${token}`);
      expect((await link('GET', '/v1/orgs/alpha/usage')).statusCode).toBe(200);
      expect((await link('GET', '/v1/orgs/alpha')).json()).not.toHaveProperty('webhookSecret');
      expect((await link('GET', '/v1/orgs/beta/usage')).statusCode).toBe(404);
      expect((await link('GET', '/v1/orgs')).statusCode).toBe(403);
      expect((await link('PATCH', '/v1/orgs/alpha', { licenses: 1 })).statusCode).toBe(403);
      expect((await link('POST', '/v1/orgs/alpha/events', { events: [] })).statusCode).toBe(403);
      expect((await as(`dash_${token.slice(0, -2)}xx`)('GET', '/v1/orgs/alpha/usage')).statusCode).toBe(401);
      expect(
        (await app.request({ method: 'GET', url: `/dashboard/orgs/beta?token=${token}` })).statusCode,
      ).toBe(403);
      const forged = `${token.slice(0, -2)}xx`;
      expect(
        (await app.request({ method: 'GET', url: `/dashboard/orgs/alpha?token=${forged}` })).statusCode,
      ).toBe(403);
      const later = await serveOnSocket({ store, adminKey: ADMIN, now: () => NOW + 61_000 });
      const expired = await later.request({ method: 'GET', url: path });
      expect(expired.statusCode).toBe(403);
      expect(expired.body).toContain('expired');
      const expiredKey = await later.request({
        method: 'GET',
        url: '/v1/orgs/alpha/usage',
        headers: { authorization: `Bearer dash_${token}` },
      });
      expect(expiredKey.statusCode).toBe(401);
      expect(expiredKey.json()).toMatchObject({ error: { message: 'the dashboard link has expired' } });
      await later.close();
      expect(
        (await as(keys.alphaRead as string)('POST', '/v1/orgs/alpha/dashboard-links', {})).statusCode,
      ).toBe(403);
      expect(
        (await as(keys.alphaAdmin as string)('POST', '/v1/orgs/beta/dashboard-links', {})).statusCode,
      ).toBe(404);
      expect((await operator()('POST', '/v1/orgs/beta/dashboard-links')).statusCode).toBe(201);
    });

    it('starts dashboard links with the public address, or the proxy forwarded one when trusted', async () => {
      const linkFrom = async (server: SocketServer, headers: Record<string, string> = {}) =>
        (
          (
            await server.request({
              method: 'POST',
              url: '/v1/orgs/alpha/dashboard-links',
              headers: { authorization: `Bearer ${ADMIN}`, ...headers },
            })
          ).json() as { url: string }
        ).url;
      const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'billing.example.com' };
      // Without either setting, the request's own address: forwarded headers are not trusted.
      expect(await linkFrom(app, forwarded)).toMatch(
        new RegExp(`^${app.base}/dashboard/orgs/alpha\\?token=`),
      );
      const proxied = await serveOnSocket({ store, adminKey: ADMIN, now: () => NOW, trustProxy: true });
      const pub = await serveOnSocket({
        store,
        adminKey: ADMIN,
        now: () => NOW,
        publicUrl: 'https://seats.example.com/',
      });
      try {
        expect(await linkFrom(proxied, forwarded)).toMatch(
          /^https:\/\/billing\.example\.com\/dashboard\/orgs\/alpha\?token=/,
        );
        expect(await linkFrom(pub, forwarded)).toMatch(
          /^https:\/\/seats\.example\.com\/dashboard\/orgs\/alpha\?token=/,
        );
      } finally {
        await proxied.close();
        await pub.close();
      }
    });
  });
}
