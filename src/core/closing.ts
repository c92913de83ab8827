import { monthCalendar, monthOfInstant, nextMonth, startOfEpochDay } from './calendar.js';

export interface AutoCloseInput {
  readonly zone: string;
  /** When the org was created (epoch ms): months that ended before it are never closed automatically. */
  readonly createdAt: number;
  /** Days after a month's end at which it closes (org setting, default 3). */
  readonly autoCloseDays: number;
  readonly now: number;
  readonly closed: ReadonlySet<string>;
}

/** The instant a month closes automatically: `autoCloseDays` local days after its last day ends. */
export function autoCloseAt(month: string, zone: string, autoCloseDays: number): number {
  const calendar = monthCalendar(month, zone);
  return startOfEpochDay(calendar.firstDay + calendar.days + autoCloseDays, zone);
}

/**
 * The months to close automatically now (SPEC.md section 5): those that end after the org was
 * created, are not closed, and ended `autoCloseDays` days ago or more. History imported for earlier
 * months stays open until it is closed explicitly.
 *
 * @example
 * monthsToAutoClose({ zone: 'Europe/Copenhagen', createdAt: Date.parse('2026-09-15T00:00Z'),
 *   autoCloseDays: 3, now: Date.parse('2026-11-03T23:00Z'), closed: new Set() })
 * // ['2026-09', '2026-10']
 */
export function monthsToAutoClose(input: AutoCloseInput): string[] {
  const out: string[] = [];
  if (input.now < input.createdAt) return out;
  const current = monthOfInstant(input.now, input.zone);
  // The month the org was created in ends after its creation: it is the first candidate.
  let month = monthOfInstant(input.createdAt, input.zone);
  while (month < current) {
    if (!input.closed.has(month) && input.now >= autoCloseAt(month, input.zone, input.autoCloseDays)) {
      out.push(month);
    }
    month = nextMonth(month);
  }
  return out;
}
