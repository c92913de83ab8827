import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '../src/cli/index.ts');
const dir = mkdtempSync(join(tmpdir(), 'seatmeter-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const seatmeter = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...process.env, ...env } });

describe('seatmeter migrate', () => {
  it('creates the schema in the SQLite file named by --db, and again is a no-op', async () => {
    const path = join(dir, 'm.db');
    const { stdout } = await seatmeter(['migrate', '--db', `sqlite:${path}`]);
    expect(stdout).toContain('migrated');
    await seatmeter(['migrate'], { SEATMETER_DB: `sqlite:${path}` });
    const db = new Database(path, { readonly: true });
    const tables = db.prepare("select name from sqlite_master where type = 'table' order by name").all();
    db.close();
    expect(tables.map((t) => (t as { name: string }).name)).toEqual(
      expect.arrayContaining(['orgs', 'members', 'events', 'activity_days', 'status_changes', 'statements']),
    );
  });

  it('fails with a one-line reason on a bad database URL', async () => {
    const failed = await seatmeter(['migrate', '--db', 'mysql://nope']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr.trim()).toMatch(/^seatmeter: unsupported database URL/);
  });
});

describe('seatmeter serve', () => {
  it('applies migrations on start and answers /healthz, then stops on SIGTERM', async () => {
    const path = join(dir, 'serve.db');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', CLI, 'serve', '--db', `sqlite:${path}`, '--port', '0'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const m = /serving on (\S+)/.exec(line);
        if (m?.[1]) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
    });
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const db = new Database(path, { readonly: true });
    expect(db.prepare("select count(*) as n from sqlite_master where name = 'events'").get()).toEqual({
      n: 1,
    });
    db.close();
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
