import { describe, expect, it } from 'vitest';
import { autoCloseAt, monthsToAutoClose } from './closing.js';

const zone = 'Europe/Copenhagen';

describe('automatic closing', () => {
  it('closes a month autoCloseDays local days after it ends', () => {
    // October ends at local midnight, 23:00 UTC (after the DST change); three days later.
    expect(new Date(autoCloseAt('2026-10', zone, 3)).toISOString()).toBe('2026-11-03T23:00:00.000Z');
    expect(new Date(autoCloseAt('2026-03', 'America/New_York', 0)).toISOString()).toBe(
      '2026-04-01T04:00:00.000Z',
    );
  });

  it('closes months that ended after the org was created, once their grace period is over', () => {
    const base = {
      zone,
      createdAt: Date.parse('2026-09-15T08:00:00Z'),
      autoCloseDays: 3,
      closed: new Set<string>(),
    };
    expect(monthsToAutoClose({ ...base, now: Date.parse('2026-11-03T22:59:59Z') })).toEqual(['2026-09']);
    expect(monthsToAutoClose({ ...base, now: Date.parse('2026-11-03T23:00:00Z') })).toEqual([
      '2026-09',
      '2026-10',
    ]);
    expect(
      monthsToAutoClose({ ...base, now: Date.parse('2026-11-03T23:00:00Z'), closed: new Set(['2026-09']) }),
    ).toEqual(['2026-10']);
    // Never the month in progress, nor one that ended before the org existed.
    expect(monthsToAutoClose({ ...base, now: Date.parse('2026-09-20T00:00:00Z') })).toEqual([]);
    expect(
      monthsToAutoClose({
        ...base,
        createdAt: Date.parse('2026-11-01T12:00:00Z'),
        now: Date.parse('2026-11-20T00:00:00Z'),
      }),
    ).toEqual([]);
  });
});
