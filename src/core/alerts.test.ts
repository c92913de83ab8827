import { describe, expect, it } from 'vitest';
import { alertMessage, alertsDue, bannerFor } from './alerts.js';
import { rational } from './rational.js';

const base = { allowance: 50, activeAndInvited: 10, fairUseCap: 100 };

describe('alertsDue', () => {
  it('raises nothing below 95 % and approaching at exactly 95 %', () => {
    expect(alertsDue('2026-11', { ...base, projected: rational(47), toDate: rational(40) })).toEqual([]);
    expect(alertsDue('2026-11', { ...base, projected: rational(1425, 30), toDate: rational(40) })).toEqual([
      { kind: 'approaching', month: '2026-11', figure: rational(1425, 30), limit: 50 },
    ]);
  });

  it('raises approaching and breach on a jump straight over, breach on billable to date', () => {
    const due = alertsDue('2026-11', { ...base, projected: rational(70), toDate: rational(51) });
    expect(due.map((a) => [a.kind, a.figure.numerator, a.limit])).toEqual([
      ['approaching', 70, 50],
      ['breach', 51, 50],
    ]);
    // An average forecast over the allowance is not yet a breach.
    const forecast = alertsDue('2026-11', {
      ...base,
      projected: rational(1560, 30),
      toDate: rational(700, 30),
    });
    expect(forecast.map((a) => a.kind)).toEqual(['approaching']);
  });

  it('raises cap_reached with active + invited against the cap, and nothing else without an allowance', () => {
    const due = alertsDue('2026-11', {
      allowance: null,
      projected: rational(500),
      toDate: rational(500),
      activeAndInvited: 100,
      fairUseCap: 100,
    });
    expect(due).toEqual([{ kind: 'cap_reached', month: '2026-11', figure: rational(100), limit: 100 }]);
  });
});

describe('messages', () => {
  it('tells each alert with its figure and limit', () => {
    expect(
      alertMessage({ kind: 'approaching', month: '2026-11', figure: rational(1439, 30), limit: 50 }),
    ).toBe('Projected usage for 2026-11 is 47.97 of 50 licences (95.9 %).');
    expect(alertMessage({ kind: 'breach', month: '2026-11', figure: rational(51), limit: 50 })).toBe(
      'Usage for 2026-11 is 51 to date, over the allowance of 50 licences.',
    );
    expect(alertMessage({ kind: 'cap_reached', month: '2026-11', figure: rational(100), limit: 100 })).toBe(
      '100 active and invited users have reached the fair-use cap of 100: new invites are blocked.',
    );
  });

  it('shows no banner when all is well, and says whether over is a forecast', () => {
    expect(bannerFor({ ...base, projected: rational(40), toDate: rational(40) })).toBeNull();
    expect(bannerFor({ ...base, projected: rational(48), toDate: rational(40) })).toEqual({
      state: 'approaching',
      level: 'warning',
      message: 'You are using 96 % of your 50 licences this month (48 projected).',
    });
    expect(bannerFor({ ...base, projected: rational(1560, 30), toDate: rational(700, 30) })?.message).toBe(
      'At this rate the month ends at 52, over your 50 licences.',
    );
    expect(bannerFor({ ...base, projected: rational(60), toDate: rational(55) })?.message).toBe(
      'You are over your 50 licences: 55 to date this month.',
    );
    expect(
      bannerFor({ ...base, activeAndInvited: 100, projected: rational(60), toDate: rational(55) }),
    ).toEqual({
      state: 'capped',
      level: 'error',
      message: 'Fair-use cap reached: 100 active and invited users of 100. New invites are blocked.',
    });
  });
});
