import { readFileSync } from 'node:fs';
import { seeded } from '../src/demo/demo-data.js';

/**
 * Seeded, realistic workloads, generated the same way for every contender in a run.
 *
 * The call-centre month: September 2026 in Europe/Copenhagen (all of it summer time, so a fixed
 * +02:00 offset gives every contender the same local days), 10,000 members of whom about 150 work
 * on any day, four sources.
 */

export interface BenchEvent {
  readonly id: string;
  readonly member: string;
  readonly source: string;
  /** Epoch milliseconds. */
  readonly at: number;
}

export const CALL_CENTRE = {
  orgId: 'callcentre',
  timezone: 'Europe/Copenhagen',
  month: '2026-09',
  monthStart: Date.parse('2026-09-01T00:00:00+02:00'),
  monthEnd: Date.parse('2026-10-01T00:00:00+02:00'),
  /** Local midnight is 22:00 UTC the day before, all month. */
  offsetMs: 2 * 3_600_000,
  members: 10_000,
  days: 30,
  sources: ['adversus_calls', 'adversus_sales', 'hubspot_deals', 'fenerum'],
} as const;

/**
 * `total` events of the call-centre month in batches of `size`, in the order they happen, as the
 * call and sales systems send them: generated an hour at a time, so 10,000,000 events never sit in
 * memory at once and the benchmark's own data stays small beside seatmeter's memory. Each day has
 * its share of the events, spread over its ten working hours (08:00 to 18:00 local), and draws its
 * ~150 members from its own slice of the 10,000. Ids follow that order (`e0`, `e1`, ...), as call
 * ids do.
 */
export function* callCentreBatches(total: number, size: number, seed = 42): Generator<BenchEvent[]> {
  const random = seeded(seed);
  const { members, days, sources, monthStart } = CALL_CENTRE;
  const HOURS = 10;
  const slices = days * HOURS;
  let next = 0;
  let batch: BenchEvent[] = [];
  for (let slice = 0; slice < slices; slice++) {
    const day = Math.floor(slice / HOURS);
    const start = monthStart + day * 86_400_000 + (8 + (slice % HOURS)) * 3_600_000;
    const count = Math.floor((total * (slice + 1)) / slices) - Math.floor((total * slice) / slices);
    const drawn: Array<Omit<BenchEvent, 'id'>> = new Array(count);
    for (let n = 0; n < count; n++) {
      const member = (day * 150 + Math.floor(random() * 150)) % members;
      drawn[n] = {
        member: `agent-${member}`,
        source: sources[Math.floor(random() * sources.length)] as string,
        at: start + Math.floor(random() * 3_600_000),
      };
    }
    drawn.sort((x, y) => x.at - y.at);
    for (const e of drawn) {
      batch.push({ id: `e${next++}`, ...e });
      if (batch.length === size) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}

/** The whole call-centre month at once (`callCentreBatches` in one array). */
export function callCentreEvents(total: number, seed = 42): BenchEvent[] {
  return [...callCentreBatches(total, 100_000, seed)].flat();
}

/** The reference answer: distinct members per local day, by a plain in-memory pass. */
export function dailyDistinct(events: readonly BenchEvent[]): number[] {
  const { monthStart, days } = CALL_CENTRE;
  const perDay = Array.from({ length: days }, () => new Set<string>());
  for (const e of events) perDay[Math.floor((e.at - monthStart) / 86_400_000)]?.add(e.member);
  return perDay.map((s) => s.size);
}

/** The median of a few timings (ms). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Runs `fn` `runs` times after one warm-up and answers the median time in ms and the last result. */
export async function timed<T>(runs: number, fn: () => Promise<T> | T): Promise<{ ms: number; result: T }> {
  let result = await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    result = await fn();
    times.push(performance.now() - t0);
  }
  return { ms: median(times), result };
}

/** The peak resident set of a process so far (`VmHWM`), in MiB. */
export function peakRssMiB(pid: number | 'self' = 'self'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}
