import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { perLicensePlan } from './support/fixtures.js';
import { createDatabase, type PostgresServer, startPostgres } from './support/postgres.js';
import { type SocketServer, serveOnSocket } from './support/socket-server.js';

/**
 * Ready to distribute by org (issue 8): every table is keyed by `org_id` first, and every query a
 * request makes names one org, so PostgreSQL distributed by `org_id` (colocated tables) runs it on
 * one node. Checked on the real schema and on the SQL the server really sends.
 */
const ADMIN = 'operator-secret';
const NOW = Date.parse('2026-10-20T12:00:00Z');
const auth = { authorization: `Bearer ${ADMIN}` };

describe('distribution by org on PostgreSQL', () => {
  let server: PostgresServer;
  let url: string;
  let store: PostgresStore;
  let app: SocketServer;
  const statements: string[] = [];
  let recording = false;

  beforeAll(async () => {
    server = await startPostgres();
    url = await createDatabase(server.url, 'distribution');
    store = PostgresStore.open(url, {
      onQuery: (sql) => {
        if (recording) statements.push(sql);
      },
    });
    await store.migrate();
    app = await serveOnSocket({ store, adminKey: ADMIN, now: () => NOW, allowPrivateWebhooks: true });
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await store?.close();
    await server?.stop();
  });

  it('keys every table by org_id first', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ table_name: string; columns: string[] }>(`
      select tc.table_name, array_agg(kcu.column_name::text order by kcu.ordinal_position) as columns
      from information_schema.table_constraints tc
      join information_schema.key_column_usage kcu
        on kcu.constraint_name = tc.constraint_name and kcu.table_schema = tc.table_schema
      where tc.constraint_type = 'PRIMARY KEY' and tc.table_schema = 'public'
      group by tc.table_name order by tc.table_name`);
    const { rows: tables } = await client.query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`,
    );
    await client.end();
    const ours = tables.map((t) => t.table_name).filter((t) => !t.startsWith('kysely_'));
    expect(ours.length).toBeGreaterThanOrEqual(15);
    const keyed = new Map(rows.map((r) => [r.table_name, r.columns]));
    for (const table of ours) expect([table, keyed.get(table)?.[0]]).toEqual([table, 'org_id']);
  });

  it('sends only statements scoped to one org while serving an org', async () => {
    const call = async (method: string, path: string, payload?: unknown, headers = auth) => {
      const res = await app.request({
        method,
        url: path,
        headers,
        ...(payload === undefined ? {} : { payload }),
      });
      expect([method, path, res.statusCode < 400 ? 'ok' : res.body]).toEqual([method, path, 'ok']);
      return res;
    };
    await call('POST', '/v1/orgs', {
      id: 'acme',
      name: 'Acme',
      timezone: 'Europe/Copenhagen',
      counting: { presence: 'activity', aggregation: 'peak' },
      plan: perLicensePlan({ licenses: 3 }),
      fairUseCap: 10,
      billingEmails: ['billing@acme.example'],
      webhookUrl: 'http://127.0.0.1:9/hook',
    });
    const key = (
      (await call('POST', '/v1/orgs/acme/keys', { scopes: ['ingest', 'read', 'admin'] })).json() as {
        key: string;
      }
    ).key;
    const org = { authorization: `Bearer ${key}` };

    // Everything an org does, with its own key, while recording the SQL.
    recording = true;
    await call('PUT', '/v1/orgs/acme/projects/web', { name: 'Web' }, org);
    await call('PUT', '/v1/orgs/acme/teams/red', { name: 'Red' }, org);
    await call(
      'PUT',
      '/v1/orgs/acme/members/ann',
      {
        email: 'ann@acme.example',
        projects: ['web'],
        teams: ['red'],
        aliases: [{ source: 'crm', externalId: 'A1' }],
      },
      org,
    );
    await call('POST', '/v1/orgs/acme/members/ann/status', { status: 'active' }, org);
    await call(
      'POST',
      '/v1/orgs/acme/events',
      {
        events: [
          {
            id: 'e1',
            member: 'ann',
            source: 'calls',
            occurredAt: '2026-10-20T09:00:00+02:00',
            project: 'web',
          },
          { id: 'e2', member: 'A1', source: 'crm', occurredAt: '2026-10-20T09:00:00+02:00' },
          { id: 'e3', member: 'bob', source: 'calls', occurredAt: '2026-10-20T09:00:00+02:00' },
          { id: 'e4', source: 'marketing', occurredAt: '2026-10-20T09:00:00+02:00' },
          { id: 'e5', member: 'cy', source: 'calls', occurredAt: '2026-10-20T10:00:00+02:00' },
          { id: 'e6', member: 'dee', source: 'calls', occurredAt: '2026-09-20T10:00:00+02:00' },
        ],
      },
      org,
    );
    await call('GET', '/v1/orgs/acme', undefined, org);
    await call('PATCH', '/v1/orgs/acme', { licenses: 4 }, org);
    await call('GET', '/v1/orgs/acme/usage', undefined, org);
    await call('GET', '/v1/orgs/acme/usage/members?all=true', undefined, org);
    await call('GET', '/v1/orgs/acme/usage/members?format=csv', undefined, org);
    await call('GET', '/v1/orgs/acme/usage/projects', undefined, org);
    await call('POST', '/v1/orgs/acme/invites/check', { email: 'new@acme.example' }, org);
    await call('POST', '/v1/orgs/acme/invites', { email: 'new@acme.example' }, org);
    await call('POST', '/v1/orgs/acme/months/2026-09/close', undefined, org);
    await call('GET', '/v1/orgs/acme/statements/2026-09', undefined, org);
    await call('GET', '/v1/orgs/acme/alerts', undefined, org);
    await call('POST', '/v1/orgs/acme/dashboard-links', {}, org);
    recording = false;

    expect(statements.length).toBeGreaterThan(50);
    const unscoped = statements.filter((sql) => {
      const s = sql.replace(/\s+/g, ' ');
      if (s === 'begin' || s === 'commit' || s === 'rollback') return false;
      // The org's closing lock: an advisory lock whose key names the org, not a table read.
      if (/^select pg_advisory_xact_lock(_shared)?\(hashtext\(\$1\)\)$/.test(s)) return false;
      if (/^insert into /.test(s)) return !/^insert into "\w+" \("org_id"/.test(s);
      // A where clause (or join) that pins org_id to a bound value.
      return !/"org_id" = \$\d+/.test(s);
    });
    expect(unscoped).toEqual([]);
    // The alerts raised on the way went through the same path (and so were scoped too).
    expect(statements.some((s) => s.startsWith('insert into "alerts"'))).toBe(true);
  });
});
