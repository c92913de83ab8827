import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { monthCalendar } from '../src/core/calendar.js';
import type { Org } from '../src/core/types.js';
import { validateBatch } from '../src/ingest/validate-batch.js';
import { openStore, redactedUrl } from '../src/store/open-store.js';
import { makeOrg, perLicensePlan, tieredPlan } from './support/fixtures.js';
import { CLI, startServe } from './support/serve-process.js';
import { serveOnSocket } from './support/socket-server.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'seatmeter-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A migrated SQLite file under the test folder holding `org`; the store is left open. */
async function storeWithOrg(file: string, org: Org, createdAt = Date.now()) {
  const path = join(dir, file);
  const store = openStore(`sqlite:${path}`);
  await store.migrate();
  return { path, store, org: await store.createOrg(org, createdAt) };
}

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
    // A PostgreSQL server that cannot be reached: said so, in one line, without the password.
    const unreachable = (await seatmeter(['migrate', '--db', 'postgres://app:s3cret@127.0.0.1:1/x']).catch(
      (e: { code: number; stderr: string }) => e,
    )) as { code: number; stderr: string };
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr.trim()).toMatch(/^seatmeter: cannot use the database: .*ECONNREFUSED[^\n]*$/);
    expect(unreachable.stderr).not.toContain('s3cret');
    expect(redactedUrl('postgres://app:s3cret@db:5432/seatmeter')).toBe(
      'postgres://app:***@db:5432/seatmeter',
    );
    expect(redactedUrl('postgresql://app@db/x')).toBe('postgresql://app@db/x');
    expect(redactedUrl('sqlite:./seatmeter.db')).toBe('sqlite:./seatmeter.db');
  });

  it('reports on a database file that exists only, instead of creating an empty one', async () => {
    const path = join(dir, 'absent.db');
    const events = join(dir, 'few.ndjson');
    writeFileSync(events, '');
    for (const args of [
      ['report', '--org', 'x', '--month', '2026-09'],
      ['close', '--org', 'x', '--month', '2026-09'],
      ['import', '--org', 'x', events],
    ]) {
      const failed = (await seatmeter([...args, '--db', `sqlite:${path}`]).catch((e) => e)) as {
        code: number;
        stderr: string;
      };
      expect(failed.code).toBe(1);
      expect(failed.stderr.trim()).toBe(
        `seatmeter: no database at ${path}: create it with seatmeter migrate, serve or demo`,
      );
    }
    expect(existsSync(path)).toBe(false);
  });

  it('fails with one line on an unknown command or a missing option', async () => {
    for (const args of [['bogus'], ['report', '--month', '2026-09']]) {
      const failed = (await seatmeter(args).catch((e: { code: number; stderr: string }) => e)) as {
        code: number;
        stderr: string;
      };
      expect(failed.code).toBe(1);
      expect(failed.stderr.trim().split('\n')).toHaveLength(1);
      expect(failed.stderr).toMatch(/unknown command 'bogus'|required option '--org <org>'/);
    }
  });
});

describe('seatmeter serve', () => {
  it('applies migrations on start and answers /healthz, then stops on SIGTERM', async () => {
    const path = join(dir, 'serve.db');
    const server = await startServe(['--db', `sqlite:${path}`]);
    const url = server.url;
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const db = new Database(path, { readonly: true });
    expect(db.prepare("select count(*) as n from sqlite_master where name = 'events'").get()).toEqual({
      n: 1,
    });
    db.close();
    expect(await server.stop()).toBe(0);
  });
});

describe("seatmeter serve's heap growth", () => {
  /**
   * The growing factor V8 applies after each full collection once `serve` is up, as its
   * `--trace-gc-verbose` prints it ("Limit: old size: ..., new limit: ... (1.5)"). `--gc-global`
   * makes every collection a full one, so the requests after start show it.
   */
  const factorsAfterStart = (nodeFlags: string[], env: Record<string, string>) =>
    new Promise<{ factors: string[]; stderr: string; code: number | null }>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--gc-global',
          '--trace-gc-verbose',
          ...nodeFlags,
          CLI,
          'serve',
          '--port',
          '0',
          '--db',
          'sqlite::memory:',
        ],
        { env: { ...process.env, ...env } },
      );
      const factors: string[] = [];
      let serving = false;
      let stderr = '';
      child.stderr.on('data', (chunk) => {
        stderr += String(chunk);
      });
      createInterface({ input: child.stdout }).on('line', (line) => {
        const url = /serving on (\S+)/.exec(line)?.[1];
        const factor = /\[HeapController\] Limit: .*\((\d+\.\d)\)$/.exec(line)?.[1];
        if (url !== undefined) {
          serving = true;
          void (async () => {
            // Each answer of the OpenAPI document allocates its text: collections follow.
            for (let i = 0; i < 1_000 && factors.length < 2; i++) {
              await (await fetch(`${url}/v1/openapi.json`)).text();
            }
            child.kill('SIGTERM');
          })().catch(reject);
        } else if (serving && factor !== undefined) factors.push(factor);
      });
      child.on('exit', (code) => resolve({ factors, stderr, code }));
      child.on('error', reject);
      setTimeout(() => child.kill('SIGKILL'), 60_000).unref();
    });

  it("is 50 % by default, SEATMETER_HEAP_GROWING_PERCENT sets it, and node's own flag wins", async () => {
    const byDefault = await factorsAfterStart([], {});
    expect(byDefault.factors.length).toBeGreaterThan(0);
    expect(new Set(byDefault.factors)).toEqual(new Set(['1.5']));
    const configured = await factorsAfterStart([], { SEATMETER_HEAP_GROWING_PERCENT: '70' });
    expect(configured.factors.length).toBeGreaterThan(0);
    expect(new Set(configured.factors)).toEqual(new Set(['1.7']));
    const nodeFlag = await factorsAfterStart(['--heap-growing-percent=30'], {
      SEATMETER_HEAP_GROWING_PERCENT: '70',
    });
    expect(nodeFlag.factors.length).toBeGreaterThan(0);
    expect(new Set(nodeFlag.factors)).toEqual(new Set(['1.3']));
  }, 120_000);

  it('refuses a value that is not a percentage, naming the variable', async () => {
    const failed = await factorsAfterStart([], { SEATMETER_HEAP_GROWING_PERCENT: 'half' });
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim()).toBe(
      'seatmeter: SEATMETER_HEAP_GROWING_PERCENT: not an integer from 0 to 1000: half',
    );
  }, 60_000);
});

describe('seatmeter import beside another writer', () => {
  it('waits for the other process instead of failing with database is locked', async () => {
    const { path, store, org } = await storeWithOrg(
      'beside.db',
      makeOrg({ id: 'both', plan: tieredPlan(20) }),
    );
    const file = join(dir, 'beside.ndjson');
    const imported = 60_000;
    writeFileSync(
      file,
      `${Array.from({ length: imported }, (_, i) =>
        JSON.stringify({
          id: `imp-${i}`,
          member: `m${i % 40}`,
          source: 'calls',
          occurredAt: `2026-09-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00Z`,
        }),
      ).join('\n')}\n`,
    );
    let importing = true;
    const child = seatmeter(['import', '--org', 'both', '--db', `sqlite:${path}`, file]).finally(() => {
      importing = false;
    });
    // This process writes small batches all the while the import runs.
    let written = 0;
    const failures: unknown[] = [];
    for (let b = 0; importing || b < 20; b++) {
      const events = Array.from({ length: 50 }, (_, i) => ({
        id: `own-${b}-${i}`,
        member: `own${i}`,
        source: 'deals',
        at: Date.parse('2026-09-15T12:00:00Z'),
        project: undefined,
      }));
      try {
        written += (await store.ingest(org, events, Date.now())).accepted;
      } catch (error) {
        failures.push(error);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const { stdout } = await child;
    expect(failures).toEqual([]);
    expect(stdout).toContain(`${imported} accepted, 0 duplicates`);
    const rows = await store.activityRows('both', monthCalendar('2026-09', 'UTC'));
    expect(rows.reduce((n, r) => n + r.events, 0)).toBe(imported + written);
    await store.close();
  }, 120_000);
});

describe('seatmeter import and report', () => {
  it('imports NDJSON and CSV, and report --json prints what the API answers', async () => {
    const { path, store } = await storeWithOrg('import.db', makeOrg({ id: 'imp', plan: tieredPlan(20) }));
    await store.close();

    const ndjson = join(dir, 'events.ndjson');
    const lines = [];
    for (let d = 1; d <= 30; d++) {
      for (let m = 0; m < (d % 3) + 1; m++) {
        lines.push(
          JSON.stringify({
            id: `n${d}-${m}`,
            member: `m${m}`,
            source: 'calls',
            occurredAt: `2026-09-${String(d).padStart(2, '0')}T10:00:00+02:00`,
          }),
        );
      }
    }
    writeFileSync(ndjson, `${lines.join('\n')}\n`);
    const csv = join(dir, 'events.csv');
    writeFileSync(
      csv,
      'id,member,source,occurredAt,project\nc1,m9,sales,2026-09-05T10:00:00Z,web\nc2,,marketing,2026-09-05T11:00:00Z,\n',
    );

    const first = await seatmeter(['import', '--org', 'imp', '--db', `sqlite:${path}`, ndjson]);
    expect(first.stdout).toContain(
      `imported ${lines.length} events into imp: ${lines.length} accepted, 0 duplicates`,
    );
    const again = await seatmeter(['import', '--org', 'imp', '--db', `sqlite:${path}`, ndjson]);
    expect(again.stdout).toContain(`0 accepted, ${lines.length} duplicates`);
    const fromCsv = await seatmeter(['import', '--org', 'imp', '--db', `sqlite:${path}`, csv]);
    expect(fromCsv.stdout).toContain('2 accepted');

    // A bad line anywhere: nothing is stored, and the error names the bad lines, JSON or not.
    const bad = join(dir, 'bad.ndjson');
    writeFileSync(
      bad,
      [
        JSON.stringify({ id: 'b1', source: 's', occurredAt: '2026-09-01T10:00:00Z' }),
        '{"id":"b2","source":"s","occurredAt":"yesterday"}',
        '{"source":"s","occurredAt":"2026-09-01T10:00:00Z"}',
        '{"id":"b4",',
        JSON.stringify({ id: 'b5', source: 's', occurredAt: '2026-09-01T10:00:00Z' }),
      ].join('\n'),
    );
    const failed = await seatmeter(['import', '--org', 'imp', '--db', `sqlite:${path}`, bad]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed).toMatchObject({ code: 1 });
    const reason = (failed as { stderr: string }).stderr.trim();
    expect(reason.split('\n')).toHaveLength(1);
    expect(reason).toMatch(
      /^seatmeter: nothing imported: line 2: occurredAt: .*; line 3: id: .*; line 4: is not valid JSON$/,
    );
    // Excel's "CSV UTF-8" starts with a byte-order mark; lines are the file's own, header included.
    const excel = join(dir, 'excel.csv');
    writeFileSync(
      excel,
      '\uFEFFid,member,source,occurredAt\r\nx1,m1,s,2026-09-01T10:00:00Z\r\nx2,m1,s,notadate\r\n',
    );
    const badCsv = await seatmeter(['import', '--org', 'imp', '--db', `sqlite:${path}`, excel]).catch(
      (e: { stderr: string }) => e,
    );
    expect((badCsv as { stderr: string }).stderr.trim()).toMatch(/nothing imported: line 3: occurredAt: /);
    writeFileSync(excel, '\uFEFFid,member,source,occurredAt\r\nx1,m1,s,2026-09-01T10:00:00Z\r\n');
    expect((await seatmeter(['import', '--org', 'imp', '--db', `sqlite:${path}`, excel])).stdout).toContain(
      '1 accepted',
    );
    // A file that changes between the check and the import (here a pipe that serves a good line,
    // then a bad one): the import stops and says so, instead of skipping what no longer passes.
    const fifo = join(dir, 'changing.ndjson');
    execFileSync('mkfifo', [fifo]);
    const good = JSON.stringify({ id: 'f1', source: 's', occurredAt: '2026-09-01T10:00:00Z' });
    const changed = JSON.stringify({ id: 'f1', source: 's', occurredAt: 'later' });
    spawn('sh', [
      '-c',
      'printf "%s\\n" "$1" > "$3"; sleep 1; printf "%s\\n" "$2" > "$3"',
      'sh',
      good,
      changed,
      fifo,
    ]);
    const moved = (await seatmeter(['import', '--org', 'imp', '--db', `sqlite:${path}`, fifo]).catch(
      (e) => e,
    )) as { code: number; stderr: string };
    expect(moved.code).toBe(1);
    expect(moved.stderr.trim()).toBe(
      'seatmeter: the file changed: line 1: occurredAt: must be an ISO 8601 instant with Z or an offset (the first 0 events were stored; importing again is safe)',
    );
    const bom = join(dir, 'bom.ndjson');
    writeFileSync(
      bom,
      `\uFEFF${JSON.stringify({ id: 'b1', source: 's', occurredAt: '2026-09-01T10:00:00Z' })}\n`,
    );
    // b1 was not stored by the failed import: it is new here.
    expect((await seatmeter(['import', '--org', 'imp', '--db', `sqlite:${path}`, bom])).stdout).toContain(
      '1 accepted, 0 duplicates',
    );

    const report = await seatmeter([
      'report',
      '--org',
      'imp',
      '--month',
      '2026-09',
      '--json',
      '--db',
      `sqlite:${path}`,
    ]);
    const printed = JSON.parse(report.stdout) as { days: Array<{ count: number }> };
    expect(printed.days[4]?.count).toBe(5);

    const api = openStore(`sqlite:${path}`);
    const app = await serveOnSocket({ store: api, adminKey: 'k' });
    const res = await app.request({
      method: 'GET',
      url: '/v1/orgs/imp/usage?month=2026-09',
      headers: { authorization: 'Bearer k' },
    });
    expect(printed).toEqual(res.json());
    await app.close();
    await api.close();

    const table = await seatmeter(['report', '--org', 'imp', '--month', '2026-09', '--db', `sqlite:${path}`]);
    expect(table.stdout).toContain('imp 2026-09');
    expect(table.stdout).toMatch(/billable\s+5/);
  });
});

describe('seatmeter serve --demo', () => {
  /** What `serve --demo` prints up to its curl line (or its exit), then it is stopped. */
  const demoLines = (path: string) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', CLI, 'serve', '--demo', '--port', '0', '--db', `sqlite:${path}`],
        {
          env: { ...process.env, SEATMETER_ADMIN_KEY: '' },
        },
      );
      let out = '';
      child.stdout.on('data', (chunk) => {
        out += String(chunk);
        if (out.includes('dashboard:') && /\ntry: curl[^\n]*\n/.test(out)) child.kill('SIGTERM');
      });
      child.on('exit', () => resolve(out));
      child.on('error', reject);
      setTimeout(() => child.kill('SIGKILL'), 60_000).unref();
    });

  it("links the call centre's page when it seeded it, and no org that is not there", async () => {
    const seeded = await demoLines(join(dir, 'demo-empty.db'));
    expect(seeded).toContain('created the demo orgs nordic-calls and pixel-apps');
    // SEATMETER_ADMIN_KEY set empty is not set: the demo's own key is used, and printed.
    expect(seeded).toContain('operator key: demo-operator-key');
    expect(seeded).toMatch(/nordic-calls billing page: http:\/\/\S+\/dashboard\/orgs\/nordic-calls\?token=/);
    expect(seeded).toMatch(/try: curl .*\/v1\/orgs\/nordic-calls\/usage/);

    const { path, store } = await storeWithOrg('demo-other.db', makeOrg({ id: 'theirs' }));
    await store.close();
    const other = await demoLines(path);
    expect(other).not.toContain('created the demo orgs');
    expect(other).not.toContain('nordic-calls');
    expect(other).toMatch(/try: curl .*\/v1\/orgs\/theirs\/usage/);
  }, 120_000);
});

describe('seatmeter report as a table', () => {
  it("shows an average with two decimals and money in the currency's minor unit, once due months are closed", async () => {
    const { path, store, org } = await storeWithOrg(
      'table.db',
      makeOrg({
        id: 'kw',
        counting: { presence: 'activity', aggregation: 'average' },
        plan: perLicensePlan({ currency: 'KWD' }),
      }),
      Date.parse('2026-08-01T00:00:00Z'),
    );
    // 2, 3 and 1 members on days 1, 2, 3, ... of September, and one more on the 1st: 61 seat-days.
    const events = [{ id: 'extra', member: 'x', source: 'calls', occurredAt: '2026-09-01T10:00:00Z' }];
    for (let d = 1; d <= 30; d++) {
      for (let m = 0; m < (d % 3) + 1; m++) {
        events.push({
          id: `t${d}-${m}`,
          member: `m${m}`,
          source: 'calls',
          occurredAt: `2026-09-${String(d).padStart(2, '0')}T10:00:00Z`,
        });
      }
    }
    const batch = validateBatch(events, Date.now());
    if (!batch.ok) throw new Error('bad events');
    await store.ingest(org, batch.events, Date.now());
    await store.close();
    const { stdout } = await seatmeter([
      'report',
      '--org',
      'kw',
      '--month',
      '2026-09',
      '--db',
      `sqlite:${path}`,
    ]);
    // September ended more than autoCloseDays ago: the report closes it, as a server would have.
    expect(stdout).toMatch(/^kw 2026-09 \(Europe\/Copenhagen, activity \/ average\) closed$/m);
    expect(stdout).toMatch(/to date +2\.03 \(61\/30\)/);
    expect(stdout).toMatch(/billable +2\.03\n/);
    // Five licences at 2.500 KWD: 12.500 KWD, three decimals (fils).
    expect(stdout).toMatch(/charge +KWD\u00a012\.500 \(5 licences\)/);
  });
});

describe('the installed command', () => {
  it('runs the CLI built by npm install (bin/seatmeter.js)', async () => {
    const bin = join(import.meta.dirname, '../bin/seatmeter.js');
    const path = join(dir, 'bin.db');
    const { stdout } = await run(process.execPath, [bin, 'migrate', '--db', `sqlite:${path}`]);
    expect(stdout).toContain(`migrated sqlite:${path}`);
    const help = await run(process.execPath, [bin, '--help']);
    for (const command of ['serve', 'migrate', 'import', 'report', 'close', 'demo'])
      expect(help.stdout).toContain(command);
  });
});
