import { dateOfEpochDay, dayIndexIn, type MonthCalendar, monthCalendar } from '../core/calendar.js';
import type { Charge } from '../core/plans.js';
import { type SeatDays, statusAt, statusSeats } from '../core/presence.js';
import { type RationalFigure, toFigure } from '../core/rational.js';
import type { Counting, Member, MemberKind, MemberStatus, Org } from '../core/types.js';
import { type DayCount, usageFigures } from '../core/usage.js';
import type { UsageState } from '../core/usage-state.js';
import type { ActivityRow, MemberRange, Store } from '../store/store.js';

/** The usage of one org and month, in the API's shape (SPEC.md section 6). */
export interface Usage {
  readonly org: string;
  readonly month: string;
  readonly timezone: string;
  readonly daysInMonth: number;
  readonly closed: boolean;
  readonly counting: Counting;
  readonly days: DayCount[];
  readonly current: number | null;
  readonly toDate: RationalFigure;
  readonly projected: RationalFigure;
  readonly billable: RationalFigure;
  readonly allowance: number | null;
  readonly state: UsageState;
  readonly activeAndInvited: number;
  readonly lateEvents: number;
  readonly charge: Charge;
}

interface PageSeats {
  readonly seats: SeatDays<string>;
  /** Members that would have held a seat but for their `deactivated` status (activity presence). */
  readonly withheld: SeatDays<string>;
  readonly activity: ActivityRow[];
}

/** Members read per page by the members list, its CSV and the projects view. */
export const MEMBER_PAGE = 1000;

/**
 * The index of the last day of the month that has begun by `now` (-1 when none has): days that
 * have not happened hold no seats, even for members whose status says they will be active.
 */
function lastBegunDay(calendar: MonthCalendar, now: number): number {
  if (now >= (calendar.bounds[calendar.days] as number)) return calendar.days - 1;
  return dayIndexIn(calendar, now);
}

function dropFutureDays(seats: SeatDays<string>, last: number): SeatDays<string> {
  for (const [member, days] of seats) {
    for (const d of days) if (d > last) days.delete(d);
    if (days.size === 0) seats.delete(member);
  }
  return seats;
}

/**
 * Who of one page of members held a seat on which day of a month, under the org's presence rule.
 * Under `activity`, members whose current status is `deactivated` hold none (they are returned
 * apart, as `withheld`). For a closed month (`closedAt`), statuses are those recorded by its
 * closing, so its lists agree with its frozen statement.
 */
async function pageSeats(
  store: Store,
  org: Org,
  calendar: MonthCalendar,
  now: number,
  page: MemberPage,
  closedAt: number | undefined,
): Promise<PageSeats> {
  const last = lastBegunDay(calendar, now);
  const activity = await store.activityRows(org.id, calendar, page.range);
  if (org.counting.presence === 'status') {
    const histories = await store.statusHistories(org.id, page.range, closedAt);
    const seats = dropFutureDays(statusSeats({ calendar, histories }), last);
    return { seats, withheld: new Map(), activity };
  }
  const deactivated =
    closedAt === undefined
      ? new Set(page.members.filter((m) => m.status === 'deactivated').map((m) => m.id))
      : new Set(
          (await store.statusHistories(org.id, page.range, closedAt))
            // As the members' `status` was then: the one in force at the closing.
            .filter((h) => statusAt(h.changes, closedAt) === 'deactivated')
            .map((h) => h.member),
        );
  const seats: SeatDays<string> = new Map();
  const withheld: SeatDays<string> = new Map();
  for (const row of activity) {
    const target = deactivated.has(row.member) ? withheld : seats;
    let days = target.get(row.member);
    if (!days) {
      days = new Set();
      target.set(row.member, days);
    }
    days.add(row.day);
  }
  return { seats: dropFutureDays(seats, last), withheld: dropFutureDays(withheld, last), activity };
}

interface MemberPage {
  readonly members: Member[];
  /** The id range the page covers, for reading the same members' activity and history. */
  readonly range: MemberRange;
}

/** The org's members in id order, `size` at a time, so memory stays flat in the number of members. */
async function* memberPages(store: Store, orgId: string, size = MEMBER_PAGE): AsyncGenerator<MemberPage> {
  let after: string | undefined;
  for (;;) {
    const members = await store.listMembers(orgId, { after, limit: size });
    const last = members.at(-1);
    if (!last) return;
    yield { members, range: { after, through: last.id } };
    if (members.length < size) return;
    after = last.id;
  }
}

/** The daily counts of a month under the org's presence rule. */
async function monthCounts(store: Store, org: Org, month: string, now: number): Promise<number[]> {
  const calendar = monthCalendar(month, org.timezone);
  const last = lastBegunDay(calendar, now);
  // Both are kept up to date by the store: one row per day to read.
  const counts =
    org.counting.presence === 'activity'
      ? await store.activityCounts(org.id, calendar)
      : await store.statusCounts(org.id, calendar);
  return counts.map((c, i) => (i > last ? 0 : c));
}

/**
 * The usage of a month: daily counts, current / toDate / projected, billable, allowance, state and
 * charge. A closed month answers from its frozen statement.
 */
export async function getUsage(store: Store, org: Org, month: string, now: number): Promise<Usage> {
  const calendar = monthCalendar(month, org.timezone);
  const { activeAndInvited, lateEvents, statement } = await store.monthFacts(org.id, month);
  const base = {
    org: org.id,
    month,
    timezone: org.timezone,
    daysInMonth: calendar.days,
    activeAndInvited,
    lateEvents,
  };
  if (statement) {
    const frozen = statement.body as Pick<
      Usage,
      'counting' | 'days' | 'billable' | 'allowance' | 'charge'
    > & {
      state?: UsageState;
    };
    return {
      ...base,
      closed: true,
      counting: frozen.counting,
      days: frozen.days,
      current: null,
      toDate: frozen.billable,
      projected: frozen.billable,
      billable: frozen.billable,
      allowance: frozen.allowance,
      state: frozen.state ?? 'ok',
      charge: frozen.charge,
    };
  }
  const counts = await monthCounts(store, org, month, now);
  const f = usageFigures({
    calendar,
    aggregation: org.counting.aggregation,
    plan: org.plan,
    counts,
    now,
    activeAndInvited,
    fairUseCap: org.fairUseCap,
  });
  return {
    ...base,
    closed: false,
    counting: org.counting,
    days: f.days,
    current: f.current,
    toDate: toFigure(f.toDate),
    projected: toFigure(f.projected),
    billable: toFigure(f.billable),
    allowance: f.allowance,
    state: f.state,
    charge: f.charge,
  };
}

export type MemberReason = 'activity' | 'active' | 'deactivated' | 'no_activity' | 'not_active';

export interface MemberUsage {
  readonly id: string;
  readonly email: string | null;
  readonly name: string | null;
  readonly kind: MemberKind;
  readonly status: MemberStatus | null;
  readonly billable: boolean;
  /** Why the member is or is not billable. */
  readonly reason: MemberReason;
  readonly daysCounted: number;
  readonly firstDay: string | null;
  readonly lastDay: string | null;
  readonly projects: readonly string[];
  readonly teams: readonly string[];
  /** Events per source in the month. */
  readonly sources: Record<string, number>;
}

export interface MembersFilter {
  readonly team?: string | undefined;
  readonly project?: string | undefined;
  readonly source?: string | undefined;
  /** List every member, also those that held no seat. */
  readonly all?: boolean | undefined;
}

/**
 * Who counted in a month, on how many days, from which sources, a page at a time in member id
 * order. Listed: every member that held a seat or would have but for its status; with `all`, every
 * member.
 */
export async function* memberUsagePages(
  store: Store,
  org: Org,
  month: string,
  now: number,
  filter: MembersFilter = {},
  pageSize = MEMBER_PAGE,
): AsyncGenerator<MemberUsage[]> {
  const calendar = monthCalendar(month, org.timezone);
  const closedAt = (await store.getStatement(org.id, month))?.closedAt;
  for await (const page of memberPages(store, org.id, pageSize)) {
    const { seats, withheld, activity } = await pageSeats(store, org, calendar, now, page, closedAt);
    const sources = new Map<string, Record<string, number>>();
    for (const row of activity) {
      let s = sources.get(row.member);
      if (!s) {
        s = {};
        sources.set(row.member, s);
      }
      s[row.source] = (s[row.source] ?? 0) + row.events;
    }
    const out: MemberUsage[] = [];
    for (const m of page.members) {
      if (filter.team !== undefined && !m.teams.includes(filter.team)) continue;
      if (filter.project !== undefined && !m.projects.includes(filter.project)) continue;
      const memberSources = sources.get(m.id) ?? {};
      if (filter.source !== undefined && memberSources[filter.source] === undefined) continue;
      const held = seats.get(m.id);
      const kept = withheld.get(m.id);
      const days = held ?? kept;
      if (!days && !filter.all) continue;
      let reason: MemberReason;
      if (held) reason = org.counting.presence === 'activity' ? 'activity' : 'active';
      else if (kept) reason = 'deactivated';
      else reason = org.counting.presence === 'activity' ? 'no_activity' : 'not_active';
      const sorted = days ? [...days].sort((a, b) => a - b) : [];
      const first = sorted[0];
      const last = sorted.at(-1);
      out.push({
        id: m.id,
        email: m.email,
        name: m.name,
        kind: m.kind,
        status: m.status,
        billable: held !== undefined,
        reason,
        daysCounted: sorted.length,
        firstDay: first === undefined ? null : dateOfEpochDay(calendar.firstDay + first),
        lastDay: last === undefined ? null : dateOfEpochDay(calendar.firstDay + last),
        projects: m.projects,
        teams: m.teams,
        sources: memberSources,
      });
    }
    if (out.length > 0) yield out;
  }
}

export interface MembersList {
  readonly members: MemberUsage[];
  readonly totals: { members: number; billable: number };
  /**
   * Every team, project and source of the listed members (not only of this page), sorted: the
   * choices a filter offers, however many pages the list has.
   */
  readonly facets: { teams: string[]; projects: string[]; sources: string[] };
  /** The id to pass as `cursor` for the next page, null on the last. */
  readonly nextCursor: string | null;
}

/**
 * The members list of a month: totals over every listed member, and the `limit` members after
 * `cursor` (an id). Only that page is held in memory.
 */
export async function membersUsage(
  store: Store,
  org: Org,
  month: string,
  now: number,
  filter: MembersFilter = {},
  page: { cursor?: string | undefined; limit?: number | undefined } = {},
): Promise<MembersList> {
  const limit = page.limit ?? Number.POSITIVE_INFINITY;
  const cursor = page.cursor === undefined ? undefined : Buffer.from(page.cursor);
  const members: MemberUsage[] = [];
  let listed = 0;
  let billable = 0;
  let more = false;
  const teams = new Set<string>();
  const projects = new Set<string>();
  const sources = new Set<string>();
  for await (const chunk of memberUsagePages(store, org, month, now, filter)) {
    for (const m of chunk) {
      listed++;
      if (m.billable) billable++;
      for (const t of m.teams) teams.add(t);
      for (const p of m.projects) projects.add(p);
      for (const s in m.sources) sources.add(s);
      // Byte order, as the store pages (JavaScript's `<=` compares UTF-16 code units).
      if (cursor !== undefined && Buffer.compare(Buffer.from(m.id), cursor) <= 0) continue;
      if (members.length < limit) members.push(m);
      else more = true;
    }
  }
  const last = members.at(-1);
  const sorted = (set: Set<string>) => [...set].sort();
  return {
    members,
    totals: { members: listed, billable },
    facets: { teams: sorted(teams), projects: sorted(projects), sources: sorted(sources) },
    nextCursor: more && last ? last.id : null,
  };
}

export interface ProjectUsage {
  readonly id: string;
  readonly name: string;
  /** Members of the project. */
  readonly members: number;
  /** Of them, those that held a seat in the month. */
  readonly billable: number;
}

/**
 * Members per project and the org total: a member in two projects counts in each and once in the
 * total.
 */
export async function projectsUsage(
  store: Store,
  org: Org,
  month: string,
  now: number,
): Promise<{ projects: ProjectUsage[]; total: { members: number; billable: number } }> {
  const calendar = monthCalendar(month, org.timezone);
  const projects = await store.listProjects(org.id);
  const perProject = new Map(
    projects.map((p) => [p.id, { id: p.id, name: p.name, members: 0, billable: 0 }]),
  );
  const closedAt = (await store.getStatement(org.id, month))?.closedAt;
  let members = 0;
  let billable = 0;
  for await (const page of memberPages(store, org.id)) {
    const { seats } = await pageSeats(store, org, calendar, now, page, closedAt);
    for (const m of page.members) {
      members++;
      const held = seats.has(m.id);
      if (held) billable++;
      for (const p of m.projects) {
        const entry = perProject.get(p);
        if (!entry) continue;
        entry.members++;
        if (held) entry.billable++;
      }
    }
  }
  return { projects: [...perProject.values()], total: { members, billable } };
}
