import { describe, expect, it } from 'vitest';
import {
  DayMapper,
  dateOfEpochDay,
  dateOfInstant,
  datesOfMonth,
  dayIndexIn,
  daysInMonth,
  epochDayOfDate,
  epochDayOfInstant,
  isValidTimezone,
  monthCalendar,
  monthOfInstant,
  nextMonth,
  previousMonth,
  utcEpochDayOf,
} from './calendar.js';

const HOUR = 3_600_000;

function dayLengthsInHours(month: string, zone: string): number[] {
  const { bounds, days } = monthCalendar(month, zone);
  return Array.from({ length: days }, (_, i) => ((bounds[i + 1] as number) - (bounds[i] as number)) / HOUR);
}

describe('calendar', () => {
  it('knows the days of February in leap and common years', () => {
    expect(daysInMonth('2024-02')).toBe(29);
    expect(daysInMonth('2025-02')).toBe(28);
    expect(daysInMonth('2000-02')).toBe(29);
    expect(daysInMonth('2100-02')).toBe(28);
    expect(datesOfMonth('2028-02').at(-1)).toBe('2028-02-29');
    expect(daysInMonth('2026-09')).toBe(30);
    expect(daysInMonth('2026-12')).toBe(31);
  });

  it('round-trips dates through epoch days', () => {
    expect(epochDayOfDate('1970-01-01')).toBe(0);
    expect(epochDayOfDate('2026-09-01')).toBe(20_697);
    expect(dateOfEpochDay(20_697)).toBe('2026-09-01');
    expect(epochDayOfDate('2025-02-29')).toBeUndefined();
    expect(epochDayOfDate('2026-13-01')).toBeUndefined();
    for (let d = -700_000; d < 2_900_000; d += 997) {
      expect(epochDayOfDate(dateOfEpochDay(d))).toBe(d);
    }
  });

  it('steps months across years', () => {
    expect(nextMonth('2026-12')).toBe('2027-01');
    expect(previousMonth('2026-01')).toBe('2025-12');
    expect(() => daysInMonth('2026-13')).toThrow(RangeError);
  });

  it('validates IANA zones', () => {
    expect(isValidTimezone('Europe/Copenhagen')).toBe(true);
    expect(isValidTimezone('UTC')).toBe(true);
    expect(isValidTimezone('Mars/Olympus')).toBe(false);
    expect(isValidTimezone('')).toBe(false);
  });

  it('has a 23-hour and a 25-hour day in Copenhagen', () => {
    const march = dayLengthsInHours('2026-03', 'Europe/Copenhagen');
    expect(march[28]).toBe(23); // 29 March 2026: clocks forward
    expect(march.filter((h) => h !== 24)).toEqual([23]);
    const october = dayLengthsInHours('2026-10', 'Europe/Copenhagen');
    expect(october[24]).toBe(25); // 25 October 2026: clocks back
    expect(october.filter((h) => h !== 24)).toEqual([25]);
  });

  it('has a 23-hour and a 25-hour day in New York', () => {
    const march = dayLengthsInHours('2026-03', 'America/New_York');
    expect(march[7]).toBe(23); // 8 March 2026
    const november = dayLengthsInHours('2026-11', 'America/New_York');
    expect(november[0]).toBe(25); // 1 November 2026
    expect(november.reduce((a, b) => a + b, 0)).toBe(30 * 24 + 1);
  });

  it('puts instants on the local day, not the UTC day', () => {
    // 23:30 UTC on 31 August is 01:30 on 1 September in Copenhagen (UTC+2).
    const t = Date.parse('2026-08-31T23:30:00Z');
    expect(dateOfInstant(t, 'Europe/Copenhagen')).toBe('2026-09-01');
    expect(dateOfInstant(t, 'UTC')).toBe('2026-08-31');
    expect(monthOfInstant(t, 'Europe/Copenhagen')).toBe('2026-09');
    expect(dateOfInstant(Date.parse('2026-11-01T03:30:00Z'), 'America/New_York')).toBe('2026-10-31');
  });

  it('puts every local date within a day of the UTC date, from UTC-12 to UTC+14', () => {
    for (const at of [
      '2026-10-20T00:00:00Z',
      '2026-10-20T09:59:59Z',
      '2026-10-20T12:00:00Z',
      '2026-10-20T23:59:59Z',
    ]) {
      const t = Date.parse(at);
      const utc = utcEpochDayOf(t);
      expect(utc).toBe(epochDayOfInstant(t, 'UTC'));
      const offsets = ['Etc/GMT+12', 'America/Los_Angeles', 'Asia/Kolkata', 'Pacific/Kiritimati'].map(
        (zone) => epochDayOfInstant(t, zone) - utc,
      );
      for (const offset of offsets) expect([-1, 0, 1]).toContain(offset);
    }
    // 12:00 UTC is already the next day in Kiritimati (UTC+14); 05:00 UTC still the day before in Los Angeles.
    expect(epochDayOfInstant(Date.parse('2026-10-20T12:00:00Z'), 'Pacific/Kiritimati')).toBe(
      utcEpochDayOf(Date.parse('2026-10-20T12:00:00Z')) + 1,
    );
    expect(epochDayOfInstant(Date.parse('2026-10-20T05:00:00Z'), 'America/Los_Angeles')).toBe(
      utcEpochDayOf(Date.parse('2026-10-20T05:00:00Z')) - 1,
    );
  });

  it('maps instants to day indexes on DST days with half-open bounds', () => {
    const cal = monthCalendar('2026-10', 'Europe/Copenhagen');
    const day25 = cal.bounds[24] as number;
    const day26 = cal.bounds[25] as number;
    expect(day25).toBe(Date.parse('2026-10-24T22:00:00Z')); // local midnight, CEST
    expect(day26).toBe(Date.parse('2026-10-25T23:00:00Z')); // local midnight, CET
    expect(dayIndexIn(cal, day25)).toBe(24);
    expect(dayIndexIn(cal, day26 - 1)).toBe(24);
    expect(dayIndexIn(cal, day26)).toBe(25);
    // The repeated hour 02:00-03:00 local belongs to the 25th both times.
    expect(dayIndexIn(cal, Date.parse('2026-10-25T00:30:00Z'))).toBe(24);
    expect(dayIndexIn(cal, Date.parse('2026-10-25T01:30:00Z'))).toBe(24);
    expect(dayIndexIn(cal, (cal.bounds[0] as number) - 1)).toBe(-1);
    expect(dayIndexIn(cal, cal.bounds[31] as number)).toBe(-1);
  });

  it('maps instants fast and right across month edges', () => {
    const mapper = new DayMapper('America/New_York');
    const instants = [
      '2026-03-08T04:59:59.999Z', // 7 March, 23:59:59.999 EST
      '2026-03-08T05:00:00Z', // 8 March, 00:00 EST
      '2026-03-09T03:59:59.999Z', // 8 March, 23:59:59.999 EDT
      '2026-03-09T04:00:00Z', // 9 March
      '2026-04-01T03:59:59Z', // still 31 March
      '2026-04-01T04:00:00Z', // 1 April
      '2026-03-01T04:59:00Z', // back to 28 February
    ];
    expect(instants.map((s) => dateOfEpochDay(mapper.epochDayOf(Date.parse(s))))).toEqual([
      '2026-03-07',
      '2026-03-08',
      '2026-03-08',
      '2026-03-09',
      '2026-03-31',
      '2026-04-01',
      '2026-02-28',
    ]);
  });
});
