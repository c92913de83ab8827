import { DateTime, IANAZone } from 'luxon';

/**
 * Days are calendar dates in an org's IANA timezone. Internally a day is an "epoch day": the number
 * of days from 1970-01-01 to that local date (a plain integer, cheap to store and compare); at the
 * edges it is an ISO date string `YYYY-MM-DD`. A month is `YYYY-MM`.
 *
 * Nothing here reads the clock: instants come in as epoch milliseconds.
 */

const MS_PER_DAY = 86_400_000;
const MONTH_RE = /^(\d{4})-(0[1-9]|1[0-2])$/;
const DATE_RE = /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/** Epoch day of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`). */
export function epochDayFromParts(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** The date parts of an epoch day (Howard Hinnant's `civil_from_days`). */
export function partsFromEpochDay(epochDay: number): { year: number; month: number; day: number } {
  const z = epochDay + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));
const pad4 = (n: number): string => String(n).padStart(4, '0');

/** `2026-09-01` for the epoch day 20697. */
export function dateOfEpochDay(epochDay: number): string {
  const { year, month, day } = partsFromEpochDay(epochDay);
  return `${pad4(year)}-${pad2(month)}-${pad2(day)}`;
}

/** The epoch day of an ISO date, or `undefined` when it is not a real `YYYY-MM-DD` date. */
export function epochDayOfDate(date: string): number | undefined {
  const m = DATE_RE.exec(date);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (day > daysInMonthOf(year, month)) return undefined;
  return epochDayFromParts(year, month, day);
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonthOf(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

export interface MonthParts {
  year: number;
  month: number;
}

/** Parses `YYYY-MM`; `undefined` when malformed. */
export function parseMonth(month: string): MonthParts | undefined {
  const m = MONTH_RE.exec(month);
  if (!m) return undefined;
  return { year: Number(m[1]), month: Number(m[2]) };
}

export function isMonth(value: string): boolean {
  return parseMonth(value) !== undefined;
}

function requireMonth(month: string): MonthParts {
  const parts = parseMonth(month);
  if (!parts) throw new RangeError(`not a month (YYYY-MM): ${month}`);
  return parts;
}

/** Days in a `YYYY-MM` month: `daysInMonth('2028-02')` is 29. */
export function daysInMonth(month: string): number {
  const { year, month: m } = requireMonth(month);
  return daysInMonthOf(year, m);
}

export function formatMonth(year: number, month: number): string {
  return `${pad4(year)}-${pad2(month)}`;
}

/** The month an epoch day falls in. */
export function monthOfEpochDay(epochDay: number): string {
  const { year, month } = partsFromEpochDay(epochDay);
  return formatMonth(year, month);
}

/** The month after `month`: `nextMonth('2026-12')` is `2027-01`. */
export function nextMonth(month: string): string {
  const { year, month: m } = requireMonth(month);
  return m === 12 ? formatMonth(year + 1, 1) : formatMonth(year, m + 1);
}

/** The month before `month`. */
export function previousMonth(month: string): string {
  const { year, month: m } = requireMonth(month);
  return m === 1 ? formatMonth(year - 1, 12) : formatMonth(year, m - 1);
}

/** The ISO dates of every day of a month. */
export function datesOfMonth(month: string): string[] {
  const { year, month: m } = requireMonth(month);
  const first = epochDayFromParts(year, m, 1);
  return Array.from({ length: daysInMonthOf(year, m) }, (_, i) => dateOfEpochDay(first + i));
}

/** True when `zone` is an IANA timezone name this runtime knows. */
export function isValidTimezone(zone: string): boolean {
  return zone.length > 0 && IANAZone.isValidZone(zone);
}

/**
 * The first instant (epoch ms) of a local date in `zone`. Usually local midnight; where a DST gap
 * swallows midnight, the first instant that exists on that date.
 */
export function startOfEpochDay(epochDay: number, zone: string): number {
  const { year, month, day } = partsFromEpochDay(epochDay);
  return DateTime.fromObject({ year, month, day }, { zone }).startOf('day').toMillis();
}

/**
 * The UTC date, as an epoch day, on which an instant falls. Its local date in any timezone
 * (offsets from -12 to +14 hours) is this day, the day before or the day after.
 */
export function utcEpochDayOf(instantMs: number): number {
  return Math.floor(instantMs / MS_PER_DAY);
}

/** The local date, as an epoch day, on which an instant falls in `zone`. */
export function epochDayOfInstant(instantMs: number, zone: string): number {
  const local = DateTime.fromMillis(instantMs, { zone });
  return epochDayFromParts(local.year, local.month, local.day);
}

/** The ISO date on which an instant falls in `zone`. */
export function dateOfInstant(instantMs: number, zone: string): string {
  return dateOfEpochDay(epochDayOfInstant(instantMs, zone));
}

/** The `YYYY-MM` month in which an instant falls in `zone`. */
export function monthOfInstant(instantMs: number, zone: string): string {
  return monthOfEpochDay(epochDayOfInstant(instantMs, zone));
}

/**
 * A month laid out in a timezone: its days and the instants where they begin. `bounds` has
 * `days + 1` entries; day `i` is the half-open interval `[bounds[i], bounds[i + 1])`, 23, 24 or
 * 25 hours long around DST changes.
 */
export interface MonthCalendar {
  readonly month: string;
  readonly zone: string;
  readonly days: number;
  /** Epoch day of the 1st of the month. */
  readonly firstDay: number;
  readonly bounds: readonly number[];
}

const calendarCache = new Map<string, MonthCalendar>();
const CALENDAR_CACHE_LIMIT = 10_000;

/**
 * The calendar of `month` in `zone`. Results are memoised: a calendar is a pure function of its
 * arguments.
 *
 * @example
 * monthCalendar('2026-10', 'Europe/Copenhagen').bounds // day 25 is 25 hours long
 */
export function monthCalendar(month: string, zone: string): MonthCalendar {
  const key = `${zone}|${month}`;
  const hit = calendarCache.get(key);
  if (hit) return hit;
  const { year, month: m } = requireMonth(month);
  const days = daysInMonthOf(year, m);
  const firstDay = epochDayFromParts(year, m, 1);
  const bounds: number[] = [];
  for (let i = 0; i <= days; i++) bounds.push(startOfEpochDay(firstDay + i, zone));
  const calendar: MonthCalendar = Object.freeze({
    month,
    zone,
    days,
    firstDay,
    bounds: Object.freeze(bounds),
  });
  if (calendarCache.size >= CALENDAR_CACHE_LIMIT) calendarCache.clear();
  calendarCache.set(key, calendar);
  return calendar;
}

/**
 * Index (0-based) of the day of `calendar` that contains the instant, or -1 when the instant lies
 * outside the month. O(1): a guess from the UTC day length, corrected by at most a step or two.
 */
export function dayIndexIn(calendar: MonthCalendar, instantMs: number): number {
  const { bounds, days } = calendar;
  const start = bounds[0] as number;
  if (instantMs < start || instantMs >= (bounds[days] as number)) return -1;
  let i = Math.floor((instantMs - start) / MS_PER_DAY);
  if (i >= days) i = days - 1;
  while (instantMs < (bounds[i] as number)) i--;
  while (instantMs >= (bounds[i + 1] as number)) i++;
  return i;
}

/**
 * Maps instants to local epoch days in one timezone, fast enough to call per ingested event: it
 * keeps the month calendar it used last and only asks the timezone database when an instant falls
 * outside it.
 */
/** How many months a DayMapper keeps laid out (a few years of history). */
const MAPPER_MONTHS = 120;

export class DayMapper {
  private last: MonthCalendar | undefined;
  /** The months laid out so far, by `year * 12 + month - 1` of their first day. */
  private readonly months = new Map<number, MonthCalendar>();

  constructor(readonly zone: string) {}

  epochDayOf(instantMs: number): number {
    const cal = this.last;
    if (cal !== undefined) {
      const i = dayIndexIn(cal, instantMs);
      if (i >= 0) return cal.firstDay + i;
    }
    // The local date is within a day of the UTC date (offsets stay within 14 hours), so the local
    // month is the UTC month or one next to it: a month seen before answers without Luxon.
    const utc = new Date(instantMs);
    const key = utc.getUTCFullYear() * 12 + utc.getUTCMonth();
    for (const k of [key, key - 1, key + 1]) {
      const known = this.months.get(k);
      const i = known === undefined ? -1 : dayIndexIn(known, instantMs);
      if (known !== undefined && i >= 0) {
        this.last = known;
        return known.firstDay + i;
      }
    }
    const day = epochDayOfInstant(instantMs, this.zone);
    const month = monthOfEpochDay(day);
    const laidOut = monthCalendar(month, this.zone);
    if (this.months.size >= MAPPER_MONTHS) this.months.clear();
    const [year, m] = month.split('-').map(Number) as [number, number];
    this.months.set(year * 12 + m - 1, laidOut);
    this.last = laidOut;
    return day;
  }
}
