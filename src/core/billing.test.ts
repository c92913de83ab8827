import { describe, expect, it } from 'vitest';
import { perLicensePlan, TIERS, tieredPlan } from '../../test/support/fixtures.js';
import { aggregate, monthFigures } from './aggregation.js';
import { monthCalendar } from './calendar.js';
import { inviteCheck } from './invite.js';
import { allowance, charge, type Plan, planIssues, type TieredPlan } from './plans.js';
import { activitySeats, dailyCounts, statusSeats } from './presence.js';
import { compare, rational, toFigure } from './rational.js';
import { usageFigures } from './usage.js';
import { dueAlerts, usageState } from './usage-state.js';

const tiered = tieredPlan;
const perLicense = perLicensePlan;

const repeat = (n: number, value: number): number[] => new Array<number>(n).fill(value);

describe('the worked examples of SPEC.md', () => {
  it('averages 10x40, 10x80, 10x60 over 30 days to exactly 60, charged at the 100 tier on 50', () => {
    const counts = [...repeat(10, 40), ...repeat(10, 80), ...repeat(10, 60)];
    const billable = aggregate(counts, 'average', 30);
    expect(billable).toEqual({ numerator: 1800, denominator: 30 });
    expect(toFigure(billable)).toEqual({ value: 60, numerator: 1800, denominator: 30 });
    const c = charge(tiered(50), billable);
    expect(c).toEqual({ currency: 'USD', amount: 35_000, licenses: null, tierUpTo: 100, overage: null });
    expect(usageState({ projected: billable, allowance: 50, activeAndInvited: 80, fairUseCap: 10_000 })).toBe(
      'over',
    );
  });

  it('bills 14 licences for daily counts 8, 14, 10 under peak', () => {
    const billable = aggregate([8, 14, 10], 'peak', 30);
    expect(billable).toEqual({ numerator: 14, denominator: 1 });
    const c = charge(perLicense({ licenses: 10, overageUnitPrice: 3000 }), billable);
    expect(c).toEqual({
      currency: 'EUR',
      amount: 10 * 2500 + 4 * 3000,
      licenses: 10,
      tierUpTo: null,
      overage: 4,
    });
  });

  it('needs the 100 tier for 1501/30 while 1500/30 fits 50', () => {
    expect(charge(tiered(50), rational(1501, 30)).tierUpTo).toBe(100);
    expect(charge(tiered(50), rational(1500, 30)).tierUpTo).toBe(50);
    expect(toFigure(rational(1501, 30)).value).toBe(50.03);
    expect(
      usageState({ projected: rational(1501, 30), allowance: 50, activeAndInvited: 0, fairUseCap: null }),
    ).toBe('over');
    expect(
      usageState({ projected: rational(1500, 30), allowance: 50, activeAndInvited: 0, fairUseCap: null }),
    ).toBe('approaching');
  });

  it('lets administrators without data go free and bills a shared member as one seat', () => {
    const cal = monthCalendar('2019-10', 'Europe/Copenhagen');
    const at = (s: string) => Date.parse(s);
    const events = [
      { member: 'curtis.miller', at: at('2019-10-21T09:30:00+02:00') },
      { member: 'ann', at: at('2019-10-21T10:00:00+02:00') },
      // Marketing holds a whole source's data: many events, one seat.
      ...Array.from({ length: 50 }, (_, i) => ({
        member: 'Marketing',
        at: at('2019-10-21T08:00:00Z') + i * 60_000,
      })),
    ];
    // 'admin' and 'viewer' exist with login access but have no events: they never appear.
    const seats = activitySeats({ calendar: cal, events });
    const counts = dailyCounts(seats, cal.days);
    expect(counts[20]).toBe(3);
    expect([...seats.keys()].sort()).toEqual(['Marketing', 'ann', 'curtis.miller']);
    expect(aggregate(counts, 'peak', cal.days).numerator).toBe(3);
  });

  it('does not bill a deactivated employee on any day of an open month', () => {
    const cal = monthCalendar('2026-09', 'UTC');
    const events = [
      { member: 'a', at: Date.parse('2026-09-02T10:00:00Z') },
      { member: 'gone', at: Date.parse('2026-09-02T10:00:00Z') },
      { member: 'gone', at: Date.parse('2026-09-03T10:00:00Z') },
    ];
    const seats = activitySeats({ calendar: cal, events, isBillable: (m) => m !== 'gone' });
    expect(dailyCounts(seats, cal.days).slice(0, 3)).toEqual([0, 1, 0]);
  });
});

describe('status presence', () => {
  const cal = monthCalendar('2026-09', 'Europe/Copenhagen');
  const local = (s: string) => Date.parse(`${s}+02:00`);

  it('counts a member on every day it was active at any instant, and never invited or revoked', () => {
    const seats = statusSeats({
      calendar: cal,
      histories: [
        {
          member: 'u1',
          changes: [
            { status: 'invited', at: local('2026-08-20T10:00:00') },
            { status: 'active', at: local('2026-09-03T23:59:00') },
            { status: 'revoked', at: local('2026-09-05T00:00:00') },
          ],
        },
        { member: 'u2', changes: [{ status: 'invited', at: local('2026-09-01T10:00:00') }] },
        { member: 'sso', changes: [{ status: 'active', at: local('2026-09-29T12:00:00') }] },
      ],
    });
    // u1 active from 3rd 23:59 to 5th 00:00: the 3rd and the 4th, not the 5th (revoked at midnight).
    expect([...(seats.get('u1') ?? [])]).toEqual([2, 3]);
    expect(seats.has('u2')).toBe(false);
    expect([...(seats.get('sso') ?? [])]).toEqual([28, 29]);
  });

  it('sorts out-of-order changes and lets the last change at one instant win', () => {
    const at = local('2026-09-10T09:00:00');
    const seats = statusSeats({
      calendar: cal,
      histories: [
        {
          member: 'u',
          changes: [
            { status: 'revoked', at: local('2026-09-12T09:00:00') },
            { status: 'active', at },
            { status: 'revoked', at },
          ],
        },
        {
          member: 'v',
          changes: [
            { status: 'revoked', at },
            { status: 'active', at },
          ],
        },
      ],
    });
    expect(seats.has('u')).toBe(false);
    expect([...(seats.get('v') ?? [])]).toEqual(Array.from({ length: 21 }, (_, i) => 9 + i));
  });
});

describe('month figures', () => {
  it('reports current, toDate and projected for a month in progress', () => {
    const counts = [10, 20, 30, 0, 0, 0, 0, 0, 0, 0];
    const avg = monthFigures({ counts, aggregation: 'average', todayIndex: 2 });
    expect(avg.current).toBe(30);
    expect(avg.toDate).toEqual({ numerator: 60, denominator: 10 });
    expect(avg.projected).toEqual({ numerator: 60 + 30 * 7, denominator: 10 });
    const peak = monthFigures({ counts, aggregation: 'peak', todayIndex: 1 });
    expect(peak).toEqual({ current: 20, toDate: rational(20), projected: rational(20) });
    const closed = monthFigures({ counts, aggregation: 'average', todayIndex: null });
    expect(closed.current).toBeNull();
    expect(compare(closed.toDate, closed.projected)).toBe(0);
  });

  it('ignores counts after today in toDate (events up to 5 minutes ahead may land tomorrow)', () => {
    const f = monthFigures({ counts: [1, 2, 9], aggregation: 'peak', todayIndex: 1 });
    expect(f.toDate.numerator).toBe(2);
  });

  it('composes the usage figures of a month in progress', () => {
    const cal = monthCalendar('2026-09', 'UTC');
    const counts = repeat(30, 0).map((_, i) => (i < 10 ? 19 : 0));
    const u = usageFigures({
      calendar: cal,
      aggregation: 'peak',
      plan: tiered(20),
      counts,
      now: Date.parse('2026-09-10T12:00:00Z'),
      activeAndInvited: 25,
      fairUseCap: 10_000,
    });
    expect(u.days[0]).toEqual({ date: '2026-09-01', count: 19 });
    expect(u.days).toHaveLength(30);
    expect(u.current).toBe(19);
    expect(u.billable).toEqual(rational(19));
    expect(u.allowance).toBe(20);
    expect(u.state).toBe('approaching');
    expect(u.charge.tierUpTo).toBe(20);
  });
});

describe('plans', () => {
  it('charges per licence with the minimum and optional overage', () => {
    expect(charge(perLicense({ licenses: 3, minimumLicenses: 5 }), rational(2)).licenses).toBe(5);
    expect(charge(perLicense(), rational(161, 30))).toMatchObject({ overage: 1, amount: 5 * 2500 });
    expect(charge(perLicense(), rational(150, 30))).toMatchObject({ overage: 0 });
    expect(allowance(perLicense())).toBe(5);
  });

  it('charges the smallest tier that fits, the unlimited tier past the last limit', () => {
    expect(charge(tiered(50), rational(3))).toMatchObject({ tierUpTo: 20, amount: 10_000 });
    expect(charge(tiered(20), rational(3)).tierUpTo).toBe(20);
    expect(charge(tiered(50), rational(1501, 30)).tierUpTo).toBe(100);
    expect(charge(tiered(50), rational(1500, 30)).tierUpTo).toBe(50);
    expect(charge(tiered(50), rational(101))).toMatchObject({ tierUpTo: null, amount: 60_000 });
    expect(allowance(tiered(null))).toBeNull();
    const capped: TieredPlan = { ...tiered(20), tiers: TIERS.slice(0, 2) };
    expect(charge(capped, rational(500)).tierUpTo).toBe(50);
  });

  it('names every bad field of a plan', () => {
    expect(planIssues(tiered(50))).toEqual([]);
    expect(planIssues(perLicense())).toEqual([]);
    const bad: TieredPlan = {
      type: 'tiered',
      currency: 'usd',
      tiers: [
        { upTo: null, price: 1 },
        { upTo: 10, price: -1 },
      ],
      subscribedUpTo: 30,
    };
    expect(planIssues(bad).map((i) => i.field)).toEqual([
      'currency',
      'tiers.0.upTo',
      'tiers.1.price',
      'subscribedUpTo',
    ]);
    expect(planIssues(perLicense({ licenses: 1, minimumLicenses: 5 }))).toEqual([]);
    expect(planIssues(perLicense({ licenses: -1, unitPrice: 1.5 })).map((i) => i.field)).toEqual([
      'unitPrice',
      'licenses',
    ]);
  });
});

describe('states, alerts and invites', () => {
  const base = { allowance: 20, activeAndInvited: 10, fairUseCap: 100 };

  it('moves from ok to approaching at exactly 95 % and to over past the allowance', () => {
    expect(usageState({ ...base, projected: rational(189, 10) })).toBe('ok');
    expect(usageState({ ...base, projected: rational(19) })).toBe('approaching');
    expect(usageState({ ...base, projected: rational(20) })).toBe('approaching');
    expect(usageState({ ...base, projected: rational(601, 30) })).toBe('over');
    expect(usageState({ ...base, projected: rational(601, 30), activeAndInvited: 100 })).toBe('capped');
    expect(usageState({ ...base, allowance: null, projected: rational(5000) })).toBe('ok');
  });

  it('raises approaching and breach together on a jump from ok to over', () => {
    expect(dueAlerts({ ...base, projected: rational(30), toDate: rational(30) })).toEqual([
      'approaching',
      'breach',
    ]);
    expect(dueAlerts({ ...base, projected: rational(30), toDate: rational(10) })).toEqual(['approaching']);
    expect(
      dueAlerts({ ...base, projected: rational(1), toDate: rational(1), activeAndInvited: 100 }),
    ).toEqual(['cap_reached']);
    expect(dueAlerts({ ...base, allowance: null, projected: rational(1e6), toDate: rational(1e6) })).toEqual(
      [],
    );
  });

  it('decides ok, warning, breach and blocked', () => {
    expect(inviteCheck({ ...base, seats: 10 })).toMatchObject({ decision: 'ok', after: 11, percent: 55 });
    expect(inviteCheck({ ...base, seats: 18 })).toMatchObject({
      decision: 'warning',
      after: 19,
      percent: 95,
    });
    expect(inviteCheck({ ...base, seats: 19 })).toMatchObject({
      decision: 'warning',
      after: 20,
      percent: 100,
    });
    expect(inviteCheck({ ...base, seats: 20 })).toMatchObject({
      decision: 'breach',
      after: 21,
      percent: 105,
    });
    expect(inviteCheck({ ...base, seats: 1, activeAndInvited: 100 })).toMatchObject({ decision: 'blocked' });
    expect(inviteCheck({ ...base, seats: 1, activeAndInvited: 99 }).decision).toBe('ok');
    expect(inviteCheck({ ...base, allowance: 3, seats: 0 }).percent).toBe(33.3);
    expect(inviteCheck({ ...base, allowance: null, seats: 500 })).toMatchObject({
      decision: 'ok',
      percent: null,
    });
    for (const d of ['ok', 'warning', 'breach', 'blocked']) {
      const seats = { ok: 1, warning: 18, breach: 25, blocked: 1 }[d] as number;
      const check = inviteCheck({ ...base, seats, activeAndInvited: d === 'blocked' ? 100 : 10 });
      expect(check.decision).toBe(d);
      expect(check.message.length).toBeGreaterThan(10);
    }
  });

  it('says what a breach costs under the plan', () => {
    const breach = (plan: Plan, seats: number, allowed: number) =>
      inviteCheck({ seats, allowance: allowed, activeAndInvited: 0, fairUseCap: null, plan }).message;
    expect(breach(perLicense({ licenses: 18, overageUnitPrice: null }), 18, 18)).toBe(
      'This invite takes you over your licence: 19 of 18 licensed seats in use. Seats above your licences are an overage: buy more licences to cover them.',
    );
    expect(breach(perLicense({ licenses: 18, overageUnitPrice: 3000 }), 18, 18)).toMatch(
      /Each seat above your licences is billed as overage\.$/,
    );
    expect(breach(tiered(20), 20, 20)).toMatch(/charged at the next tier, up to 50 seats\.$/);
    expect(breach(tiered(100), 100, 100)).toMatch(/charged at the unlimited tier\.$/);
    const finite: Plan = { ...tiered(100), tiers: TIERS.filter((t) => t.upTo !== null) };
    expect(breach(finite, 100, 100)).toMatch(/Your plan has no tier above 100 seats\.$/);
  });
});
