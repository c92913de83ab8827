/**
 * The other workload shapes of issue 7, each on embedded SQLite through the library:
 *
 * - report time against members: orgs of 1,000, 10,000 and 100,000 members (activity presence),
 *   each member active on 8 random days of September with 2 events a day;
 * - the active-user org with churn: 10,000 members (status presence, average) invited, activated,
 *   some revoked, some of those back, some deactivated, every change through `appendStatus`; the
 *   report against a plain in-memory pass over the same histories (the ceiling);
 * - many small orgs: 1,000 orgs of 20 members, each sending its month in 5 durable batches; the
 *   ingest rate and the report time across orgs.
 *
 * Every report's daily counts are checked against an in-memory count. Usage:
 * `npm run bench:shapes [-- --quick]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DayMapper, monthCalendar } from '../src/core/calendar.js';
import { countsFromDeltas, dailyCounts, statusDeltas, statusSeats } from '../src/core/presence.js';
import type { MemberStatus, Org, StatusChange } from '../src/core/types.js';
import { seeded } from '../src/demo/demo-data.js';
import type { ValidEvent } from '../src/ingest/validate-batch.js';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';
import { getUsage } from '../src/usage/usage-service.js';
import { makeOrg, perLicensePlan, tieredPlan } from '../test/support/fixtures.js';
import { CALL_CENTRE, median, timed } from './workloads.js';

const quick = process.argv.includes('--quick');
const RUNS = quick ? 5 : 9;
const { month, monthStart, monthEnd, days } = CALL_CENTRE;
const DAY = 86_400_000;
const random = seeded(7);
const pick = (n: number) => Math.floor(random() * n);

function check(name: string, got: number[], expected: number[]) {
  if (JSON.stringify(got) !== JSON.stringify(expected)) {
    throw new Error(
      `${name}: ${JSON.stringify(got.slice(0, 5))}..., expected ${JSON.stringify(expected.slice(0, 5))}...`,
    );
  }
}

const daily = async (store: Store, org: Org) =>
  (await getUsage(store, org, month, monthEnd)).days.map((d) => d.count);

/** Events of `members` members, each active on `activeDays` random days with `perDay` events. */
function activityOf(prefix: string, members: number, activeDays: number, perDay: number) {
  const events: ValidEvent[] = [];
  const expected = new Array<number>(days).fill(0);
  for (let m = 0; m < members; m++) {
    const chosen = new Set<number>();
    while (chosen.size < activeDays) chosen.add(pick(days));
    for (const day of chosen) {
      expected[day] = (expected[day] as number) + 1;
      for (let k = 0; k < perDay; k++) {
        events.push({
          id: `${prefix}-${m}-${day}-${k}`,
          member: `${prefix}-member-${m}`,
          source: 'calls',
          at: monthStart + day * DAY + 8 * 3_600_000 + pick(36_000_000),
          project: undefined,
        });
      }
    }
  }
  events.sort((a, b) => a.at - b.at);
  return { events, expected };
}

async function ingestAll(store: Store, org: Org, events: ValidEvent[], batch: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < events.length; i += batch)
    await store.ingest(org, events.slice(i, i + batch), monthEnd);
  return performance.now() - t0;
}

async function membersSweep(store: Store) {
  console.log('\n### report time against members (activity presence, peak)\n');
  console.log('| members | events | ingest (events/s) | usage report (median ms) |');
  console.log('| --- | --- | --- | --- |');
  for (const members of quick ? [1_000, 10_000] : [1_000, 10_000, 100_000]) {
    const org = await store.createOrg(
      makeOrg({ id: `m${members}`, plan: perLicensePlan({ licenses: members }), fairUseCap: null }),
      monthStart,
    );
    const { events, expected } = activityOf(`m${members}`, members, 8, 2);
    const ms = await ingestAll(store, org, events, 10_000);
    const report = await timed(RUNS, () => daily(store, org));
    check(`members ${members}`, report.result, expected);
    const rate = Math.round(events.length / (ms / 1000)).toLocaleString('en');
    console.log(
      `| ${members.toLocaleString('en')} | ${events.length.toLocaleString('en')} | ${rate} | ${report.ms.toFixed(3)} |`,
    );
  }
}

async function churn(store: Store) {
  const members = quick ? 2_000 : 10_000;
  const org = await store.createOrg(
    makeOrg({
      id: 'active-users',
      counting: { presence: 'status', aggregation: 'average' },
      plan: tieredPlan(null),
      fairUseCap: null,
    }),
    monthStart - 60 * DAY,
  );
  const histories = new Map<string, StatusChange[]>();
  let changes = 0;
  const t0 = performance.now();
  for (let m = 0; m < members; m++) {
    const id = `user-${m}`;
    await store.putMember(org.id, { id, email: `${id}@example.com` }, monthStart);
    // Invited before or during the month, active a little later; then some churn.
    const invited = monthStart + (pick(40) - 20) * DAY + pick(DAY);
    const history: StatusChange[] = [
      { status: 'invited', at: invited },
      { status: 'active', at: invited + pick(3 * DAY) },
    ];
    const churned = random();
    const last = () => (history.at(-1) as StatusChange).at;
    const after = (status: MemberStatus) => history.push({ status, at: last() + 1 + pick(10 * DAY) });
    if (churned < 0.3) {
      after('revoked');
      if (random() < 0.3) after('active');
    } else if (churned < 0.35) after('deactivated');
    for (const c of history) await store.appendStatus(org.id, id, c.status, c.at, monthEnd);
    changes += history.length;
    histories.set(id, history);
  }
  const writeMs = performance.now() - t0;
  const calendar = monthCalendar(month, org.timezone);
  const inMemory = [...histories].map(([member, c]) => ({ member, changes: c }));
  // The ceiling is the fastest in-memory count (the per-day deltas of each member's runs of
  // active days, as the store keeps them); the answer is checked against plain sets of days.
  const mapper = new DayMapper(org.timezone);
  const ceiling = await timed(RUNS, () =>
    countsFromDeltas(
      statusDeltas(inMemory, (ms) => mapper.epochDayOf(ms)),
      calendar.firstDay,
      calendar.days,
    ),
  );
  const report = await timed(RUNS, () => daily(store, org));
  check('churn', report.result, dailyCounts(statusSeats({ calendar, histories: inMemory }), calendar.days));
  check('churn ceiling', ceiling.result, report.result);
  console.log(
    `\n### active-user org with churn (status presence, average): ${members.toLocaleString('en')} members\n`,
  );
  console.log(
    `- members and status changes written: ${changes.toLocaleString('en')} changes, ${Math.round(changes / (writeMs / 1000)).toLocaleString('en')}/s (one durable transaction each)`,
  );
  console.log(
    `- usage report: ${report.ms.toFixed(3)} ms (median); in-memory count over the same histories (the ceiling): ${ceiling.ms.toFixed(3)} ms`,
  );
}

async function smallOrgs(store: Store) {
  const orgs = quick ? 100 : 1_000;
  const all: Array<{ org: Org; events: ValidEvent[]; expected: number[] }> = [];
  for (let o = 0; o < orgs; o++) {
    const org = await store.createOrg(makeOrg({ id: `small-${o}`, fairUseCap: null }), monthStart);
    all.push({ org, ...activityOf(`s${o}`, 20, 15, 3) });
  }
  let events = 0;
  const t0 = performance.now();
  // Round robin: each org sends a sixth of its month (5 days) at a time.
  for (let part = 0; part < 6; part++) {
    for (const { org, events: e } of all) {
      const from = Math.floor((e.length * part) / 6);
      const to = Math.floor((e.length * (part + 1)) / 6);
      await store.ingest(org, e.slice(from, to), monthEnd);
      events += to - from;
    }
  }
  const ingestMs = performance.now() - t0;
  const times: number[] = [];
  for (const { org, expected } of all) {
    const report = await timed(3, () => daily(store, org));
    check(org.id, report.result, expected);
    times.push(report.ms);
  }
  times.sort((a, b) => a - b);
  const p99 = times[Math.floor(times.length * 0.99)] as number;
  console.log(`\n### many small orgs: ${orgs.toLocaleString('en')} orgs of 20 members\n`);
  console.log(
    `- ingest: ${events.toLocaleString('en')} events in ${(orgs * 6).toLocaleString('en')} batches, ${Math.round(events / (ingestMs / 1000)).toLocaleString('en')} events/s, ${((ingestMs / (orgs * 6)) * 1000).toFixed(0)} µs per batch`,
  );
  console.log(`- usage report across orgs: median ${median(times).toFixed(3)} ms, p99 ${p99.toFixed(3)} ms`);
}

const dir = mkdtempSync(join(tmpdir(), 'seatmeter-shapes-'));
const store = openStore(`sqlite:${join(dir, 'shapes.db')}`);
try {
  await store.migrate();
  console.log(`workload shapes on SQLite, ${new Date().toISOString()}${quick ? ' (quick)' : ''}`);
  await membersSweep(store);
  await churn(store);
  await smallOrgs(store);
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
