import fc from 'fast-check';
import { IANAZone } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  type ActivityEvent,
  activeDayRuns,
  activitySeats,
  addRunDeltas,
  aggregate,
  charge,
  compare,
  countsFromDeltas,
  DayMapper,
  dailyCounts,
  dueAlerts,
  type InviteDecision,
  inviteCheck,
  type MemberStatus,
  monthCalendar,
  monthFigures,
  type PerLicensePlan,
  type Plan,
  planIssues,
  type Rational,
  rational,
  type SeatDays,
  type StatusHistory,
  statusDeltas,
  statusSeats,
  type Tier,
  type TieredPlan,
  type UsageState,
  usageFigures,
  usageState,
} from '../src/core/index.js';
import {
  naiveActivityCounts,
  naiveAverage,
  naiveCompare,
  naiveDateOf,
  naiveDatesOfMonth,
  naiveDayBounds,
  naiveEpochDayOfDate,
  naivePeak,
  naivePerLicenseCharge,
  naiveStatusCounts,
  naiveTieredCharge,
} from './reference/naive.js';

/*
 * Property-based and differential tests of the pure billing core (src/core) against SPEC.md
 * sections 1-4 and the naive reference model in test/reference/naive.ts.
 */

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** The zones of the brief, plus America/Santiago, whose DST changes happen at local midnight. */
const ZONES = [
  'UTC',
  'Europe/Copenhagen',
  'America/New_York',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'America/Santiago',
] as const;
/** DST months (EU/US/Lord Howe/Santiago changes), leap and non-leap Februaries. */
const MONTHS = ['2026-03', '2026-04', '2026-09', '2026-10', '2026-11', '2024-02', '2025-02'] as const;
const STATUSES: readonly MemberStatus[] = ['invited', 'active', 'revoked', 'deactivated'];

// ---------------------------------------------------------------------------------------------
// Instants around a month: uniform, and exactly at (or 1 ms beside) local midnights and DST changes.

/**
 * The instants in [lo, hi) where the zone's UTC offset changes, found by sampling every `step` ms
 * and bisecting to the millisecond (assumes at most one change per step).
 */
function offsetChanges(zone: string, lo: number, hi: number, step: number): number[] {
  const z = IANAZone.create(zone);
  const out: number[] = [];
  for (let a = lo; a < hi; a += step) {
    const b = Math.min(a + step, hi);
    if (z.offset(a) === z.offset(b)) continue;
    let l = a;
    let r = b; // offset(l) !== offset(r); find the first instant with offset(r)
    while (r - l > 1) {
      const m = Math.floor((l + r) / 2);
      if (z.offset(m) === z.offset(a)) l = m;
      else r = m;
    }
    out.push(r);
  }
  return out;
}

interface MonthContext {
  readonly zone: string;
  readonly month: string;
  /** Start of the month's first day and end of its last day (naive). */
  readonly start: number;
  readonly end: number;
  /** Local midnights from the day before the month to the day after it, and DST changes near it. */
  readonly specials: readonly number[];
}

const contextCache = new Map<string, MonthContext>();

function monthContext(zone: string, month: string): MonthContext {
  const key = `${zone}|${month}`;
  const hit = contextCache.get(key);
  if (hit) return hit;
  const dates = naiveDatesOfMonth(month);
  const start = naiveDayBounds(dates[0] as string, zone).start;
  const end = naiveDayBounds(dates[dates.length - 1] as string, zone).end;
  const specials = new Set<number>();
  const before = naiveDateOf(start - 1, zone);
  const after = naiveDateOf(end, zone);
  for (const date of [before, ...dates, after]) {
    const b = naiveDayBounds(date, zone);
    specials.add(b.start);
    specials.add(b.end);
  }
  for (const t of offsetChanges(zone, start - 3 * DAY, end + 3 * DAY, HOUR)) specials.add(t);
  const ctx: MonthContext = { zone, month, start, end, specials: [...specials].sort((a, b) => a - b) };
  // Counterexamples print the zone and month only, not the list of special instants.
  Object.defineProperty(ctx, fc.toStringMethod, {
    value: () => `monthContext(${JSON.stringify(zone)}, "${month}")`,
  });
  contextCache.set(key, ctx);
  return ctx;
}

const contextArb: fc.Arbitrary<MonthContext> = fc
  .tuple(fc.constantFrom(...ZONES), fc.constantFrom(...MONTHS))
  .map(([zone, month]) => monthContext(zone, month));

/** Instants around a month, biased to day bounds and DST changes (exactly, and ±1 ms). */
function instantArb(ctx: MonthContext): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: ctx.start - 2 * DAY, max: ctx.end + 2 * DAY }) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.constantFrom(...ctx.specials), fc.constantFrom(-1, 0, 0, 1))
        .map(([t, d]) => t + d),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...ctx.specials), fc.integer({ min: -3 * HOUR, max: 3 * HOUR }))
        .map(([t, d]) => t + d),
    },
    { weight: 1, arbitrary: fc.integer({ min: ctx.start - 60 * DAY, max: ctx.end + 60 * DAY }) },
  );
}

const MEMBERS = ['ann', 'bob', 'cat', 'dan', 'eve', 'Marketing', 'GitLab'] as const;
const memberArb = fc.constantFrom(...MEMBERS);

function eventsArb(ctx: MonthContext, maxLength = 40): fc.Arbitrary<ActivityEvent<string>[]> {
  return fc.array(fc.record({ member: memberArb, at: instantArb(ctx) }), { maxLength });
}

interface ActivityCase {
  readonly ctx: MonthContext;
  readonly events: ActivityEvent<string>[];
  /** Members that may not be billed (deactivated); null: `isBillable` omitted. */
  readonly excluded: readonly string[] | null;
}

const activityCaseArb: fc.Arbitrary<ActivityCase> = contextArb.chain((ctx) =>
  fc.record({
    ctx: fc.constant(ctx),
    events: eventsArb(ctx),
    excluded: fc.option(fc.subarray([...MEMBERS]), { nil: null }),
  }),
);

interface StatusCase {
  readonly ctx: MonthContext;
  readonly histories: StatusHistory<string>[];
}

/**
 * Status histories in arbitrary (not sorted) order; `reuse` makes a change share the instant of an
 * earlier generated change, so several changes often fall on one instant.
 */
const statusCaseArb: fc.Arbitrary<StatusCase> = contextArb.chain((ctx) =>
  fc
    .uniqueArray(
      fc.record({
        member: memberArb,
        changes: fc.array(
          fc.record({
            status: fc.oneof(
              { weight: 2, arbitrary: fc.constant<MemberStatus>('active') },
              { weight: 3, arbitrary: fc.constantFrom(...STATUSES) },
            ),
            at: instantArb(ctx),
            reuse: fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat() }),
          }),
          { maxLength: 6 },
        ),
      }),
      { selector: (h) => h.member, maxLength: MEMBERS.length },
    )
    .map((raw) => {
      const seen: number[] = [];
      const histories = raw.map(({ member, changes }) => ({
        member,
        changes: changes.map(({ status, at, reuse }) => {
          const chosen = reuse !== null && seen.length > 0 ? (seen[reuse % seen.length] as number) : at;
          seen.push(chosen);
          return { status, at: chosen };
        }),
      }));
      return { ctx, histories };
    }),
);

// ---------------------------------------------------------------------------------------------
// Small helpers.

function countsOfActivity(
  ctx: MonthContext,
  events: Iterable<ActivityEvent<string>>,
  excluded: readonly string[] | null,
) {
  const calendar = monthCalendar(ctx.month, ctx.zone);
  const seats = activitySeats(
    excluded === null
      ? { calendar, events }
      : { calendar, events, isBillable: (m: string) => !excluded.includes(m) },
  );
  return { seats, counts: dailyCounts(seats, calendar.days), days: calendar.days };
}

function mergeSeats<K>(parts: readonly SeatDays<K>[]): SeatDays<K> {
  const merged: SeatDays<K> = new Map();
  for (const part of parts) {
    for (const [member, days] of part) {
      let set = merged.get(member);
      if (set === undefined) {
        set = new Set();
        merged.set(member, set);
      }
      for (const d of days) set.add(d);
    }
  }
  return merged;
}

/** Permutes `items` by sorting on random keys (ties keep input order). */
function permute<T>(items: readonly T[], keys: readonly number[]): T[] {
  return items
    .map((item, i) => ({ item, key: keys[i % Math.max(1, keys.length)] ?? 0 }))
    .sort((a, b) => a.key - b.key)
    .map((x) => x.item);
}

/** Splits `items` into consecutive chunks of the given sizes (cycled); every item lands in one. */
function chunk<T>(items: readonly T[], sizes: readonly number[]): T[][] {
  const out: T[][] = [];
  let i = 0;
  let k = 0;
  while (i < items.length) {
    const size = sizes.length === 0 ? items.length : (sizes[k++ % sizes.length] as number);
    out.push(items.slice(i, i + size));
    i += size;
  }
  return out;
}

const asRational = (r: { numerator: number; denominator: number }): Rational =>
  rational(r.numerator, r.denominator);

// ---------------------------------------------------------------------------------------------

describe('activity presence is a set function of the events', () => {
  it('does not depend on event order', () => {
    fc.assert(
      fc.property(
        activityCaseArb,
        fc.array(fc.nat(), { minLength: 1 }),
        ({ ctx, events, excluded }, keys) => {
          const a = countsOfActivity(ctx, events, excluded).counts;
          const b = countsOfActivity(ctx, permute(events, keys), excluded).counts;
          const c = countsOfActivity(ctx, [...events].reverse(), excluded).counts;
          expect(b).toEqual(a);
          expect(c).toEqual(a);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('does not depend on batching: merging per-chunk seat days gives the same counts', () => {
    fc.assert(
      fc.property(
        activityCaseArb,
        fc.array(fc.integer({ min: 1, max: 12 }), { maxLength: 8 }),
        ({ ctx, events, excluded }, sizes) => {
          const whole = countsOfActivity(ctx, events, excluded);
          const parts = chunk(events, sizes).map((part) => countsOfActivity(ctx, part, excluded).seats);
          expect(dailyCounts(mergeSeats(parts), whole.days)).toEqual(whole.counts);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('does not depend on duplication: repeating events changes nothing', () => {
    fc.assert(
      fc.property(
        activityCaseArb,
        fc.array(fc.nat(), { maxLength: 60 }),
        ({ ctx, events, excluded }, picks) => {
          const a = countsOfActivity(ctx, events, excluded).counts;
          const repeats =
            events.length === 0 ? [] : picks.map((p) => events[p % events.length] as ActivityEvent<string>);
          const b = countsOfActivity(ctx, [...events, ...repeats, ...events], excluded).counts;
          expect(b).toEqual(a);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('differential: presence equals the naive reference', () => {
  it('activitySeats/dailyCounts equal the naive per-day date comparison', () => {
    fc.assert(
      fc.property(activityCaseArb, ({ ctx, events, excluded }) => {
        const real = countsOfActivity(ctx, events, excluded).counts;
        const naive = naiveActivityCounts(
          ctx.month,
          ctx.zone,
          events,
          excluded === null ? undefined : (m) => !excluded.includes(m),
        );
        expect(real).toEqual(naive);
      }),
      { numRuns: 150 },
    );
  });

  it('statusSeats/dailyCounts equal the naive "active at any instant of the day"', () => {
    fc.assert(
      fc.property(statusCaseArb, ({ ctx, histories }) => {
        const calendar = monthCalendar(ctx.month, ctx.zone);
        const real = dailyCounts(statusSeats({ calendar, histories }), calendar.days);
        expect(real).toEqual(naiveStatusCounts(ctx.month, ctx.zone, histories));
      }),
      { numRuns: 200 },
    );
  });

  it('statusDeltas/countsFromDeltas equal the naive count with the days after lastDay left out', () => {
    fc.assert(
      fc.property(statusCaseArb, fc.integer({ min: -1, max: 31 }), ({ ctx, histories }, lastDay) => {
        const calendar = monthCalendar(ctx.month, ctx.zone);
        const naive = naiveStatusCounts(ctx.month, ctx.zone, histories).map((c, d) => (d > lastDay ? 0 : c));
        const mapper = new DayMapper(ctx.zone);
        const deltas = statusDeltas(histories, (ms) => mapper.epochDayOf(ms));
        const counts = countsFromDeltas(deltas, calendar.firstDay, calendar.days);
        expect(counts.map((c, d) => (d > lastDay ? 0 : c))).toEqual(naive);
      }),
      { numRuns: 300 },
    );
  });

  it('per-day deltas of the members active day runs count the same as the naive rule', () => {
    fc.assert(
      fc.property(statusCaseArb, fc.nat({ max: 1000 }), ({ ctx, histories }, cut) => {
        const calendar = monthCalendar(ctx.month, ctx.zone);
        const mapper = new DayMapper(ctx.zone);
        const deltas = new Map<number, number>();
        // Built up one change at a time, as status changes arrive: the delta of each change is
        // the member's runs after it minus its runs before it.
        for (const { changes } of histories) {
          const split = Math.min(changes.length, cut % (changes.length + 1));
          addRunDeltas(
            deltas,
            activeDayRuns(changes.slice(0, split), (ms) => mapper.epochDayOf(ms)),
            1,
          );
          for (let n = split; n < changes.length; n++) {
            const epochDayOf = (ms: number) => mapper.epochDayOf(ms);
            addRunDeltas(deltas, activeDayRuns(changes.slice(0, n), epochDayOf), -1);
            addRunDeltas(deltas, activeDayRuns(changes.slice(0, n + 1), epochDayOf), 1);
          }
        }
        expect(countsFromDeltas(deltas, calendar.firstDay, calendar.days)).toEqual(
          naiveStatusCounts(ctx.month, ctx.zone, histories),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('regression examples: a revoke at local midnight, ties at one instant, DST days', () => {
    const zone = 'Europe/Copenhagen';
    const calendar = monthCalendar('2026-10', zone);
    const midnight = Date.parse('2026-10-11T00:00:00+02:00');
    const histories: StatusHistory<string>[] = [
      // active on the 10th only: revoked at the midnight that starts the 11th
      {
        member: 'a',
        changes: [
          { status: 'revoked', at: midnight },
          { status: 'active', at: midnight - DAY },
        ],
      },
      // active and revoked at the same instant: the later entry wins, never active
      {
        member: 'b',
        changes: [
          { status: 'active', at: midnight },
          { status: 'revoked', at: midnight },
        ],
      },
      // revoked then active at one instant: active from that instant on
      {
        member: 'c',
        changes: [
          { status: 'revoked', at: midnight },
          { status: 'active', at: midnight },
          { status: 'deactivated', at: midnight + DAY },
        ],
      },
    ];
    const real = dailyCounts(statusSeats({ calendar, histories }), calendar.days);
    expect(real).toEqual(naiveStatusCounts('2026-10', zone, histories));
    expect(real.slice(8, 13)).toEqual([0, 1, 1, 0, 0]);
    // the 25-hour day of 2026-10-25: an event at its last millisecond still counts on the 25th
    const lastMs = Date.parse('2026-10-26T00:00:00+01:00') - 1;
    const events = [{ member: 'x', at: lastMs }];
    expect(countsOfActivity(monthContext(zone, '2026-10'), events, null).counts).toEqual(
      naiveActivityCounts('2026-10', zone, events),
    );
  });
});

describe('DayMapper', () => {
  const yearsLo = Date.UTC(1990, 0, 1) - DAY;
  const yearsHi = Date.UTC(2041, 0, 1) + DAY;
  const transitionCache = new Map<string, number[]>();
  /** The zone's offset changes within the year of `t` (cached per zone and year). */
  const transitionsOfYear = (zone: string, t: number): number[] => {
    const year = new Date(t).getUTCFullYear();
    const key = `${zone}|${year}`;
    let hit = transitionCache.get(key);
    if (hit === undefined) {
      hit = offsetChanges(zone, Date.UTC(year, 0, 1) - DAY, Date.UTC(year + 1, 0, 1) + DAY, DAY);
      transitionCache.set(key, hit);
    }
    return hit;
  };

  const naiveEpochDay = (t: number, zone: string): number => naiveEpochDayOfDate(naiveDateOf(t, zone));

  it('epochDayOf equals the naive Luxon date, 1990-2040, at day bounds and DST changes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.array(
          fc.record({
            base: fc.integer({ min: yearsLo, max: yearsHi }),
            near: fc.constantFrom('none', 'bound', 'transition', 'nearby'),
            pick: fc.nat(),
            delta: fc.integer({ min: -3 * DAY, max: 3 * DAY }),
          }),
          { minLength: 1, maxLength: 25 },
        ),
        (zone, specs) => {
          const shared = new DayMapper(zone);
          for (const { base, near, pick, delta } of specs) {
            const instants = [base];
            if (near === 'bound') {
              const { start, end } = naiveDayBounds(naiveDateOf(base, zone), zone);
              instants.push(start - 1, start, start + 1, end - 1, end, end + 1);
            } else if (near === 'transition') {
              const ts = transitionsOfYear(zone, base);
              const t = ts.length === 0 ? base : (ts[pick % ts.length] as number);
              instants.push(t - 1, t, t + 1);
            } else if (near === 'nearby') {
              instants.push(base + delta);
            }
            for (const t of instants) {
              const expected = naiveEpochDay(t, zone);
              expect(shared.epochDayOf(t), `${zone} ${new Date(t).toISOString()}`).toBe(expected);
              expect(new DayMapper(zone).epochDayOf(t)).toBe(expected);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('aggregation', () => {
  it('average <= peak <= distinct members of the month, and both equal the naive figures', () => {
    fc.assert(
      fc.property(fc.oneof(activityCaseArb, statusCaseArb), (c) => {
        const calendar = monthCalendar(c.ctx.month, c.ctx.zone);
        const seats =
          'events' in c
            ? countsOfActivity(c.ctx, c.events, c.excluded).seats
            : statusSeats({ calendar, histories: c.histories });
        const counts = dailyCounts(seats, calendar.days);
        const average = aggregate(counts, 'average', calendar.days);
        const peak = aggregate(counts, 'peak', calendar.days);
        expect(average).toEqual(naiveAverage(counts, naiveDatesOfMonth(c.ctx.month).length));
        expect(peak).toEqual(naivePeak(counts));
        expect(compare(average, peak)).toBeLessThanOrEqual(0);
        expect(compare(peak, rational(seats.size))).toBeLessThanOrEqual(0);
      }),
      { numRuns: 150 },
    );
  });

  const countsArb = fc
    .constantFrom(28, 29, 30, 31)
    .chain((days) => fc.array(fc.nat({ max: 60 }), { minLength: days, maxLength: days }));

  it('monthFigures: in progress, toDate <= projected (average) and toDate = projected (peak)', () => {
    fc.assert(
      fc.property(countsArb, fc.nat(), (counts, pick) => {
        const todayIndex = pick % counts.length;
        const days = counts.length;
        const soFar = counts.slice(0, todayIndex + 1);
        const current = counts[todayIndex] as number;

        const avg = monthFigures({ counts, aggregation: 'average', todayIndex });
        expect(avg.current).toBe(current);
        expect(compare(avg.toDate, avg.projected)).toBeLessThanOrEqual(0);
        expect(avg.toDate).toEqual(naiveAverage(soFar, days));
        const held = [...soFar, ...new Array<number>(days - todayIndex - 1).fill(current)];
        expect(avg.projected).toEqual(naiveAverage(held, days));

        const peak = monthFigures({ counts, aggregation: 'peak', todayIndex });
        expect(peak.current).toBe(current);
        expect(compare(peak.toDate, peak.projected)).toBe(0);
        expect(peak.toDate).toEqual(naivePeak(soFar));
      }),
      { numRuns: 300 },
    );
  });

  it('monthFigures: for a month not in progress current is null and all three figures are equal', () => {
    fc.assert(
      fc.property(
        countsArb,
        fc.constantFrom<'peak' | 'average'>('peak', 'average'),
        (counts, aggregation) => {
          const f = monthFigures({ counts, aggregation, todayIndex: null });
          const whole = aggregation === 'peak' ? naivePeak(counts) : naiveAverage(counts, counts.length);
          expect(f.current).toBeNull();
          expect(f.toDate).toEqual(whole);
          expect(f.projected).toEqual(whole);
          expect(aggregate(counts, aggregation, counts.length)).toEqual(whole);
        },
      ),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Plans.

/** Valid tiered plans: strictly ascending upTo, non-decreasing prices, optional unlimited last tier. */
const tieredPlanArb: fc.Arbitrary<TieredPlan> = fc
  .record({
    steps: fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 6 }),
    priceSteps: fc.array(fc.nat({ max: 50_000 }), { minLength: 7, maxLength: 7 }),
    unlimited: fc.boolean(),
    subscribed: fc.nat(),
  })
  .map(({ steps, priceSteps, unlimited, subscribed }) => {
    const tiers: Tier[] = [];
    let upTo = 0;
    let price = 0;
    steps.forEach((s, i) => {
      upTo += s;
      price += priceSteps[i] ?? 0;
      tiers.push({ upTo, price });
    });
    if (unlimited) tiers.push({ upTo: null, price: price + (priceSteps[6] ?? 0) });
    const subscribedUpTo = (tiers[subscribed % tiers.length] as Tier).upTo;
    return { type: 'tiered' as const, currency: 'USD', tiers, subscribedUpTo };
  });

const perLicensePlanArb: fc.Arbitrary<PerLicensePlan> = fc.record({
  type: fc.constant('per_license' as const),
  currency: fc.constant('EUR'),
  unitPrice: fc.nat({ max: 10_000 }),
  minimumLicenses: fc.nat({ max: 50 }),
  licenses: fc.nat({ max: 80 }),
  overageUnitPrice: fc.option(fc.nat({ max: 10_000 }), { nil: null }),
});

const denominatorArb = fc.oneof(fc.constant(1), fc.integer({ min: 28, max: 31 }));

/** A billable figure: anywhere, or within a few units (of 1/denominator) of an integer `anchor`. */
interface BillableSpec {
  readonly numerator: number;
  readonly denominator: number;
  readonly near: boolean;
  readonly pick: number;
  readonly delta: number;
}
const billableSpecArb: fc.Arbitrary<BillableSpec> = fc.record({
  numerator: fc.nat({ max: 450 * 31 }),
  denominator: denominatorArb,
  near: fc.boolean(),
  pick: fc.nat(),
  delta: fc.integer({ min: -2, max: 2 }),
});
function billableOf(spec: BillableSpec, anchors: readonly number[]): Rational {
  if (!spec.near || anchors.length === 0) return rational(spec.numerator, spec.denominator);
  const anchor = anchors[spec.pick % anchors.length] as number;
  return rational(Math.max(0, anchor * spec.denominator + spec.delta), spec.denominator);
}
const tierAnchors = (plan: TieredPlan): number[] =>
  plan.tiers.flatMap((t) => (t.upTo === null ? [] : [t.upTo]));

describe('charges', () => {
  it('tiered: equals the naive tier choice and never falls when usage rises', () => {
    fc.assert(
      fc.property(tieredPlanArb, billableSpecArb, billableSpecArb, (plan, s1, s2) => {
        expect(planIssues(plan)).toEqual([]);
        let b1 = billableOf(s1, tierAnchors(plan));
        let b2 = billableOf(s2, tierAnchors(plan));
        if (naiveCompare(b1, b2) > 0) [b1, b2] = [b2, b1];
        const c1 = charge(plan, b1);
        const c2 = charge(plan, b2);
        expect({ amount: c1.amount, tierUpTo: c1.tierUpTo }).toEqual(naiveTieredCharge(plan.tiers, b1));
        expect({ amount: c2.amount, tierUpTo: c2.tierUpTo }).toEqual(naiveTieredCharge(plan.tiers, b2));
        expect(c1.licenses).toBeNull();
        expect(c1.overage).toBeNull();
        expect(c1.amount).toBeLessThanOrEqual(c2.amount);
      }),
      { numRuns: 500 },
    );
  });

  it('per-licence: equals the naive charge and never falls when usage rises', () => {
    fc.assert(
      fc.property(perLicensePlanArb, billableSpecArb, billableSpecArb, (plan, s1, s2) => {
        const anchors = [plan.licenses, plan.minimumLicenses];
        let b1 = billableOf(s1, anchors);
        let b2 = billableOf(s2, anchors);
        if (naiveCompare(b1, b2) > 0) [b1, b2] = [b2, b1];
        const c1 = charge(plan, b1);
        const c2 = charge(plan, b2);
        expect({ amount: c1.amount, licenses: c1.licenses, overage: c1.overage }).toEqual(
          naivePerLicenseCharge(plan, b1),
        );
        expect({ amount: c2.amount, licenses: c2.licenses, overage: c2.overage }).toEqual(
          naivePerLicenseCharge(plan, b2),
        );
        expect(c1.tierUpTo).toBeNull();
        expect(c1.amount).toBeLessThanOrEqual(c2.amount);
      }),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// SPEC.md section 4, read directly (BigInt arithmetic, no helpers from src/core).

/** p >= 95 % of n, exactly: p.num / p.den >= 95 n / 100. */
const atLeast95 = (p: { numerator: number; denominator: number }, n: number): boolean =>
  100n * BigInt(p.numerator) >= 95n * BigInt(n) * BigInt(p.denominator);
/** p > n exactly. */
const above = (p: { numerator: number; denominator: number }, n: number): boolean =>
  BigInt(p.numerator) > BigInt(n) * BigInt(p.denominator);

/**
 * | `ok` | projected < 95 % of allowance |
 * | `approaching` | projected >= 95 % of allowance and <= allowance |
 * | `over` | projected > allowance |
 * | `capped` | active + invited >= fairUseCap (wins over the others) |
 * Without an allowance (the unlimited tier) the state is `ok` unless `capped`.
 */
function specUsageState(
  projected: Rational,
  allowance: number | null,
  activeAndInvited: number,
  fairUseCap: number | null,
): UsageState {
  if (fairUseCap !== null && activeAndInvited >= fairUseCap) return 'capped';
  if (allowance === null) return 'ok';
  if (above(projected, allowance)) return 'over';
  if (atLeast95(projected, allowance)) return 'approaching';
  return 'ok';
}

/**
 * `blocked` if active + invited + 1 > fairUseCap, else `breach` if after > allowance, else `warning`
 * if after >= 95 % of allowance, else `ok`; after = seats + 1; percent = after / allowance x 100,
 * one decimal (halves up), null without allowance.
 */
function specInvite(
  seats: number,
  allowance: number | null,
  activeAndInvited: number,
  fairUseCap: number | null,
) {
  const after = seats + 1;
  let decision: InviteDecision;
  if (fairUseCap !== null && activeAndInvited + 1 > fairUseCap) decision = 'blocked';
  else if (allowance !== null && after > allowance) decision = 'breach';
  else if (allowance !== null && atLeast95({ numerator: after, denominator: 1 }, allowance))
    decision = 'warning';
  else decision = 'ok';
  let percent: number | null = null;
  if (allowance !== null && allowance > 0) {
    // round(after * 1000 / allowance) with halves up, then / 10
    const tenths = (2n * BigInt(after) * 1000n + BigInt(allowance)) / (2n * BigInt(allowance));
    percent = Number(tenths) / 10;
  }
  return { decision, seats, after, allowance, percent };
}

const allowanceArb = fc.option(fc.nat({ max: 120 }), { nil: null, freq: 5 });
const capArb = fc.option(fc.nat({ max: 150 }), { nil: null, freq: 4 });

/** A projected figure, often within a unit or two of 95 % of the allowance or of the allowance. */
const projectedArb = (allowance: number | null): fc.Arbitrary<Rational> =>
  fc
    .record({
      numerator: fc.nat({ max: 150 * 31 }),
      denominator: denominatorArb,
      near: fc.constantFrom('none', 'p95', 'allowance'),
      delta: fc.integer({ min: -2, max: 2 }),
    })
    .map(({ numerator, denominator, near, delta }) => {
      if (allowance === null || near === 'none') return rational(numerator, denominator);
      const target =
        near === 'p95' ? Math.ceil((95 * allowance * denominator) / 100) : allowance * denominator;
      return rational(Math.max(0, target + delta), denominator);
    });

describe('usage state and invite check follow SPEC.md section 4', () => {
  it('usageState agrees with a direct reading of the table', () => {
    fc.assert(
      fc.property(
        allowanceArb.chain((allowance) =>
          fc.tuple(fc.constant(allowance), projectedArb(allowance), fc.nat({ max: 150 }), capArb),
        ),
        ([allowance, projected, activeAndInvited, fairUseCap]) => {
          expect(usageState({ projected, allowance, activeAndInvited, fairUseCap })).toBe(
            specUsageState(projected, allowance, activeAndInvited, fairUseCap),
          );
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('dueAlerts: approaching (projected >= 95 %), breach (to date > allowance), cap_reached', () => {
    fc.assert(
      fc.property(
        allowanceArb.chain((allowance) =>
          fc.tuple(
            fc.constant(allowance),
            projectedArb(allowance),
            projectedArb(allowance),
            fc.nat({ max: 150 }),
            capArb,
          ),
        ),
        ([allowance, projected, toDate, activeAndInvited, fairUseCap]) => {
          const expected: string[] = [];
          if (allowance !== null && atLeast95(projected, allowance)) expected.push('approaching');
          if (allowance !== null && above(toDate, allowance)) expected.push('breach');
          if (fairUseCap !== null && activeAndInvited >= fairUseCap) expected.push('cap_reached');
          const due = dueAlerts({ projected, toDate, allowance, activeAndInvited, fairUseCap });
          expect([...due].sort()).toEqual(expected.sort());
        },
      ),
      { numRuns: 500 },
    );
  });

  it('inviteCheck agrees with a direct reading of the invite rules', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 130 }),
        allowanceArb,
        fc.nat({ max: 150 }),
        capArb,
        (seats, allowance, activeAndInvited, fairUseCap) => {
          const real = inviteCheck({ seats, allowance, activeAndInvited, fairUseCap });
          const { decision, after, percent } = real;
          expect({ decision, seats: real.seats, after, allowance: real.allowance, percent }).toEqual(
            specInvite(seats, allowance, activeAndInvited, fairUseCap),
          );
          expect(real.message.length).toBeGreaterThan(0);
        },
      ),
      {
        numRuns: 1000,
        examples: [
          [18, 20, 18, 10_000], // 19 of 20 = 95 %: warning
          [19, 20, 0, null], // 20 of 20: still a warning, not a breach
          [20, 20, 0, null], // 21 of 20: breach
          [5, 20, 9, 10], // 9 + 1 = 10 is not above a cap of 10
          [5, 20, 10, 10], // 10 + 1 > 10: blocked
          [0, 0, 0, null], // allowance 0: any invite is a breach
        ],
      },
    );
  });
});

describe('usageFigures against the naive model', () => {
  it('dates, today, figures, charge and state of a month, now anywhere around it', () => {
    fc.assert(
      fc.property(
        contextArb.chain((ctx) =>
          fc.record({
            ctx: fc.constant(ctx),
            now: instantArb(ctx),
            counts: fc.array(fc.nat({ max: 120 }), {
              minLength: naiveDatesOfMonth(ctx.month).length,
              maxLength: naiveDatesOfMonth(ctx.month).length,
            }),
          }),
        ),
        fc.constantFrom<'peak' | 'average'>('peak', 'average'),
        fc.oneof(tieredPlanArb, perLicensePlanArb) as fc.Arbitrary<Plan>,
        fc.nat({ max: 150 }),
        capArb,
        ({ ctx, now, counts }, aggregation, plan, activeAndInvited, fairUseCap) => {
          const calendar = monthCalendar(ctx.month, ctx.zone);
          const f = usageFigures({ calendar, aggregation, plan, counts, now, activeAndInvited, fairUseCap });
          const dates = naiveDatesOfMonth(ctx.month);
          expect(f.days).toEqual(dates.map((date, i) => ({ date, count: counts[i] })));

          const todayIndex = dates.indexOf(naiveDateOf(now, ctx.zone));
          const days = dates.length;
          let toDate: Rational;
          let projected: Rational;
          if (todayIndex < 0) {
            expect(f.current).toBeNull();
            toDate = asRational(aggregation === 'peak' ? naivePeak(counts) : naiveAverage(counts, days));
            projected = toDate;
          } else {
            const current = counts[todayIndex] as number;
            expect(f.current).toBe(current);
            const soFar = counts.slice(0, todayIndex + 1);
            const held = [...soFar, ...new Array<number>(days - todayIndex - 1).fill(current)];
            toDate = asRational(aggregation === 'peak' ? naivePeak(soFar) : naiveAverage(soFar, days));
            projected = asRational(aggregation === 'peak' ? naivePeak(held) : naiveAverage(held, days));
          }
          expect(f.toDate).toEqual(toDate);
          expect(f.projected).toEqual(projected);
          expect(f.billable).toEqual(toDate);

          const allowance =
            plan.type === 'per_license' ? Math.max(plan.licenses, plan.minimumLicenses) : plan.subscribedUpTo;
          expect(f.allowance).toBe(allowance);
          expect(f.state).toBe(specUsageState(projected, allowance, activeAndInvited, fairUseCap));
          if (plan.type === 'tiered') {
            expect({ amount: f.charge.amount, tierUpTo: f.charge.tierUpTo }).toEqual(
              naiveTieredCharge(plan.tiers, toDate),
            );
          } else {
            expect({
              amount: f.charge.amount,
              licenses: f.charge.licenses,
              overage: f.charge.overage,
            }).toEqual(naivePerLicenseCharge(plan, toDate));
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
