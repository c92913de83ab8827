/**
 * seatmeter against what a user would do instead (issue 7), on the same call-centre month fed
 * identically to every contender in one run:
 *
 * - seatmeter: the library's durable ingest into SQLite (ids deduplicated), then the month's usage
 *   report (`getUsage`: daily counts, billable, charge);
 * - peers: the raw events in SQLite, in PostgreSQL (embedded) and in DuckDB, each loaded with its
 *   fast path and asked for the daily distinct members with SQL;
 * - the ceiling: one plain in-memory pass over the events.
 *
 * Every answer is checked against the in-memory one. Query times are medians of several runs; every
 * contender loads the month three times, in turn, and each figure is the median of the three.
 * Usage: `npm run bench:peers [-- --quick]` (quick: 200,000 events instead of 2,000,000).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { ValidEvent } from '../src/ingest/validate-batch.js';
import { openStore } from '../src/store/open-store.js';
import { getUsage } from '../src/usage/usage-service.js';
import { makeOrg, perLicensePlan } from '../test/support/fixtures.js';
import { startPostgres } from '../test/support/postgres.js';
import { type BenchEvent, CALL_CENTRE, callCentreEvents, dailyDistinct, median, timed } from './workloads.js';

const quick = process.argv.includes('--quick');
const TOTAL = quick ? 200_000 : 2_000_000;
const BATCH = 10_000;
const RUNS = quick ? 5 : 9;
/** Loads of the whole month per contender. */
const ROUNDS = quick ? 1 : 3;
const { monthStart, monthEnd, offsetMs } = CALL_CENTRE;

interface Row {
  contender: string;
  loadMs: number | null;
  queryMs: number;
}

function check(name: string, got: number[], expected: number[]) {
  if (JSON.stringify(got) !== JSON.stringify(expected)) {
    throw new Error(
      `${name} answered ${JSON.stringify(got.slice(0, 5))}..., expected ${JSON.stringify(expected.slice(0, 5))}...`,
    );
  }
}

/** Daily counts from `(day, n)` rows, day being the epoch day of the local date. */
function countsFrom(rows: Array<[number | bigint, number | bigint | string]>): number[] {
  const first = Math.floor((monthStart + offsetMs) / 86_400_000);
  const out = new Array<number>(CALL_CENTRE.days).fill(0);
  for (const [day, n] of rows) out[Number(day) - first] = Number(n);
  return out;
}

/** The peers' query; `div` is integer division (`/` on SQLite and PostgreSQL, `//` on DuckDB). */
const DAILY_SQL = (param: (i: number) => string, div = '/') =>
  `select (occurred_at + ${offsetMs}) ${div} 86400000 as day, count(distinct member) as n from events
   where occurred_at >= ${param(1)} and occurred_at < ${param(2)} group by 1 order by 1`;

async function seatmeter(dir: string, events: readonly BenchEvent[], expected: number[]): Promise<Row> {
  const store = openStore(`sqlite:${join(dir, 'seatmeter.db')}`);
  await store.migrate();
  const org = await store.createOrg(
    makeOrg({ id: CALL_CENTRE.orgId, plan: perLicensePlan({ licenses: 150 }), fairUseCap: null }),
    monthStart,
  );
  let loadMs = 0;
  for (let i = 0; i < events.length; i += BATCH) {
    const batch: ValidEvent[] = events
      .slice(i, i + BATCH)
      .map((e) => ({ id: e.id, member: e.member, source: e.source, at: e.at, project: undefined }));
    const t0 = performance.now();
    await store.ingest(org, batch, monthEnd);
    loadMs += performance.now() - t0;
  }
  const now = monthEnd + 86_400_000;
  const { ms, result } = await timed(RUNS, () => getUsage(store, org, CALL_CENTRE.month, now));
  check(
    'seatmeter',
    result.days.map((d) => d.count),
    expected,
  );
  await store.close();
  return { contender: 'seatmeter (SQLite, usage report)', loadMs, queryMs: ms };
}

async function sqlitePeer(dir: string, events: readonly BenchEvent[], expected: number[]): Promise<Row> {
  const db = new Database(join(dir, 'peer.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(
    'create table events (id text primary key, member text not null, source text not null, occurred_at integer not null)',
  );
  db.exec('create index events_at on events (occurred_at)');
  const insert = db.prepare('insert or ignore into events values (?, ?, ?, ?)');
  const load = db.transaction((rows: readonly BenchEvent[]) => {
    for (const e of rows) insert.run(e.id, e.member, e.source, e.at);
  });
  const t0 = performance.now();
  for (let i = 0; i < events.length; i += BATCH) load(events.slice(i, i + BATCH));
  const loadMs = performance.now() - t0;
  const query = db.prepare(DAILY_SQL(() => '?')).raw();
  const { ms, result } = await timed(RUNS, () => query.all(monthStart, monthEnd) as Array<[number, number]>);
  check('SQLite', countsFrom(result), expected);
  db.close();
  return { contender: 'SQLite, raw events + SQL', loadMs, queryMs: ms };
}

async function postgresPeer(events: readonly BenchEvent[], expected: number[]): Promise<Row> {
  const server = await startPostgres();
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    await client.query(
      'create table events (id text primary key, member text not null, source text not null, occurred_at bigint not null)',
    );
    await client.query('create index events_at on events (occurred_at)');
    const t0 = performance.now();
    for (let i = 0; i < events.length; i += BATCH) {
      const rows = events.slice(i, i + BATCH);
      await client.query(
        `insert into events select * from unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
         on conflict do nothing`,
        [rows.map((e) => e.id), rows.map((e) => e.member), rows.map((e) => e.source), rows.map((e) => e.at)],
      );
    }
    const loadMs = performance.now() - t0;
    await client.query('analyze events');
    const { ms, result } = await timed(RUNS, async () => {
      const res = await client.query({
        text: DAILY_SQL((i) => `$${i}`),
        values: [monthStart, monthEnd],
        rowMode: 'array',
      });
      return res.rows as Array<[string, string]>;
    });
    check('PostgreSQL', countsFrom(result.map(([d, n]) => [Number(d), n])), expected);
    return { contender: 'PostgreSQL, raw events + SQL', loadMs, queryMs: ms };
  } finally {
    await client.end();
    await server.stop();
  }
}

async function duckdbPeer(dir: string, events: readonly BenchEvent[], expected: number[]): Promise<Row> {
  const instance = await DuckDBInstance.create(join(dir, 'peer.duckdb'));
  const connection = await instance.connect();
  await connection.run(
    'create table events (id varchar primary key, member varchar not null, source varchar not null, occurred_at bigint not null)',
  );
  const t0 = performance.now();
  const appender = await connection.createAppender('events');
  for (const e of events) {
    appender.appendVarchar(e.id);
    appender.appendVarchar(e.member);
    appender.appendVarchar(e.source);
    appender.appendBigInt(BigInt(e.at));
    appender.endRow();
  }
  appender.closeSync();
  await connection.run('checkpoint');
  const loadMs = performance.now() - t0;
  const { ms, result } = await timed(RUNS, async () => {
    const reader = await connection.runAndReadAll(
      DAILY_SQL((i) => `$${i}`, '//'),
      [monthStart, monthEnd],
    );
    return reader.getRows() as Array<[bigint, bigint]>;
  });
  check('DuckDB', countsFrom(result), expected);
  connection.closeSync();
  instance.closeSync();
  return { contender: 'DuckDB, raw events + SQL', loadMs, queryMs: ms };
}

const dir = mkdtempSync(join(tmpdir(), 'seatmeter-peers-'));
try {
  const events = callCentreEvents(TOTAL);
  const reference = await timed(RUNS, () => dailyDistinct(events));
  const expected = reference.result;
  // Every contender loads the month afresh in each round, in turn, so that a slow spell of this
  // shared machine falls on all of them; each figure is the median over the rounds.
  const rounds: Row[][] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const at = join(dir, `round-${round}`);
    mkdirSync(at);
    rounds.push([
      await seatmeter(at, events, expected),
      await sqlitePeer(at, events, expected),
      await postgresPeer(events, expected),
      await duckdbPeer(at, events, expected),
    ]);
    rmSync(at, { recursive: true, force: true });
  }
  const rows: Row[] = (rounds[0] as Row[]).map((first, n) => ({
    contender: first.contender,
    loadMs: median(rounds.map((r) => (r[n] as Row).loadMs as number)),
    queryMs: median(rounds.map((r) => (r[n] as Row).queryMs)),
  }));
  rows.push({ contender: 'in-memory pass (ceiling)', loadMs: null, queryMs: reference.ms });
  const ours = rows[0] as Row;
  const fastestPeerQuery = Math.min(...rows.slice(1, 4).map((r) => r.queryMs));
  const fastestPeerLoad = Math.max(...rows.slice(1, 4).map((r) => TOTAL / ((r.loadMs as number) / 1000)));
  console.log(
    `call-centre month: ${TOTAL.toLocaleString('en')} events, 10,000 members, median of ${ROUNDS} round(s), ${new Date().toISOString()}`,
  );
  console.log('| contender | load (events/s) | daily counts / report (median ms) | seatmeter is faster by |');
  console.log('| --- | --- | --- | --- |');
  for (const r of rows) {
    const rate = r.loadMs === null ? '–' : Math.round(TOTAL / (r.loadMs / 1000)).toLocaleString('en');
    const ratio = r === ours ? '–' : `${(r.queryMs / ours.queryMs).toFixed(1)}x`;
    console.log(`| ${r.contender} | ${rate} | ${r.queryMs.toFixed(3)} | ${ratio} |`);
  }
  const ourRate = TOTAL / ((ours.loadMs as number) / 1000);
  console.log(
    `report vs fastest peer: ${(fastestPeerQuery / ours.queryMs).toFixed(1)}x; ingest vs fastest peer raw insert: ${(ourRate / fastestPeerLoad).toFixed(2)}x`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
