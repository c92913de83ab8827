import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type PostgresServer, startPostgres } from './postgres.js';

describe('startPostgres', () => {
  let server: PostgresServer | undefined;

  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
  }, 60_000);

  function running(): PostgresServer {
    if (server === undefined) throw new Error('server not started');
    return server;
  }

  async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<T>(sql)).rows;
    } finally {
      await client.end();
    }
  }

  it('returns a URL for seatmeter_test on 127.0.0.1', () => {
    const url = new URL(running().url);
    expect(url.protocol).toBe('postgres:');
    expect(url.hostname).toBe('127.0.0.1');
    expect(Number(url.port)).toBeGreaterThan(0);
    expect(url.pathname).toBe('/seatmeter_test');
  });

  it('accepts connections and runs queries', async () => {
    const rows = await query<{ one: number; db: string; encoding: string }>(
      running().url,
      'select 1 as one, current_database() as db, pg_encoding_to_char(encoding) as encoding from pg_database where datname = current_database()',
    );
    expect(rows).toEqual([{ one: 1, db: 'seatmeter_test', encoding: 'UTF8' }]);
  });

  it('creates further databases on the same server', async () => {
    const url = await createDatabase(running().url, 'seatmeter_suite_a');
    expect(new URL(url).pathname).toBe('/seatmeter_suite_a');
    expect(new URL(url).port).toBe(new URL(running().url).port);
    const rows = await query<{ db: string }>(url, 'select current_database() as db');
    expect(rows).toEqual([{ db: 'seatmeter_suite_a' }]);
  });

  it('rejects database names that are not plain identifiers', async () => {
    await expect(createDatabase(running().url, 'bad"name')).rejects.toThrow(/invalid database name/);
  });

  it('stops the server and removes its directory', async () => {
    const { url, dir } = running();
    expect(existsSync(dir)).toBe(true);
    await running().stop();
    server = undefined;
    expect(existsSync(dir)).toBe(false);
    await expect(query(url, 'select 1')).rejects.toThrow();
  }, 60_000);
});
