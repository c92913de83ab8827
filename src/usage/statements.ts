import { dateOfEpochDay, monthCalendar } from '../core/calendar.js';
import { monthsToAutoClose } from '../core/closing.js';
import { NotFoundError, PeriodClosedError } from '../core/errors.js';
import type { Plan } from '../core/plans.js';
import type { Counting, Org } from '../core/types.js';
import type { Store } from '../store/store.js';
import { getUsage, type Usage } from './usage-service.js';

/** A closed month's frozen bill (SPEC.md section 6). */
export interface Statement {
  readonly org: string;
  readonly month: string;
  readonly closedAt: string;
  readonly counting: Counting;
  readonly plan: Plan;
  readonly days: Usage['days'];
  readonly billable: Usage['billable'];
  readonly allowance: number | null;
  readonly state: Usage['state'];
  readonly charge: Usage['charge'];
  /** Events that arrived for the month after it closed: stored, never changing the statement. */
  readonly lateEvents: number;
  /** Those events per local date, member and source. */
  readonly late: ReadonlyArray<{ date: string; member: string; source: string; events: number }>;
}

type Frozen = Omit<Statement, 'lateEvents' | 'late'>;

async function withLateEvents(store: Store, orgId: string, frozen: Frozen): Promise<Statement> {
  const [lateEvents, late] = await Promise.all([
    store.lateEvents(orgId, frozen.month),
    store.lateActivity(orgId, frozen.month),
  ]);
  return {
    ...frozen,
    lateEvents,
    late: late.map(({ day, member, source, events }) => ({
      date: dateOfEpochDay(day),
      member,
      source,
      events,
    })),
  };
}

/**
 * Closes a month: freezes its daily counts, billable figure, plan, allowance, charge. A month that
 * has not ended in the org's timezone cannot close (409 `month_not_ended`); closing a closed month
 * answers its statement again, and two closings at once store one statement.
 */
export async function closeMonth(store: Store, org: Org, month: string, now: number): Promise<Statement> {
  const existing = await store.getStatement(org.id, month);
  if (existing) return withLateEvents(store, org.id, existing.body as Frozen);
  const calendar = monthCalendar(month, org.timezone);
  if (now < (calendar.bounds[calendar.days] as number)) {
    throw new PeriodClosedError(
      'month_not_ended',
      `${month} has not ended in ${org.timezone}; it can close from its last day's end`,
    );
  }
  // Status changes recorded ahead whose moment has come are in force before the month freezes.
  await store.settleStatuses(org.id, now);
  // With the org's batches held off: each event is either counted here or stored as late.
  const saved = await store.closingMonth(org.id, async (closing) => {
    const again = await closing.getStatement(org.id, month);
    if (again) return again;
    const usage = await getUsage(closing, org, month, now);
    const frozen: Frozen = {
      org: org.id,
      month,
      closedAt: new Date(now).toISOString(),
      counting: org.counting,
      plan: org.plan,
      days: usage.days,
      billable: usage.billable,
      allowance: usage.allowance,
      state: usage.state,
      charge: usage.charge,
    };
    return closing.saveStatement(org.id, month, now, frozen);
  });
  return withLateEvents(store, org.id, saved.body as Frozen);
}

/** The statement of a closed month; NotFoundError while it is open. */
export async function getStatement(store: Store, org: Org, month: string): Promise<Statement> {
  const stored = await store.getStatement(org.id, month);
  if (!stored) throw new NotFoundError('statement', `${org.id}/${month}`);
  return withLateEvents(store, org.id, stored.body as Frozen);
}

/**
 * Closes every month due for automatic closing, in every org (SPEC.md section 5). Safe to run from
 * several instances at once: the first statement stored wins and the others read it back.
 */
export async function closeDueMonths(store: Store, now: number): Promise<{ org: string; month: string }[]> {
  const closedNow: { org: string; month: string }[] = [];
  for (const org of await store.listOrgs()) {
    for (const month of await closeDueMonthsOf(store, org, now)) closedNow.push({ org: org.id, month });
  }
  return closedNow;
}

/** Closes the months of `org` due for automatic closing; answers them. */
export async function closeDueMonthsOf(store: Store, org: Org, now: number): Promise<string[]> {
  const due = monthsToAutoClose({
    zone: org.timezone,
    createdAt: org.createdAt,
    autoCloseDays: org.autoCloseDays,
    now,
    closed: new Set(await store.closedMonths(org.id)),
  });
  for (const month of due) await closeMonth(store, org, month, now);
  return due;
}
