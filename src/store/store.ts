import type { MonthCalendar } from '../core/calendar.js';
import type { Rational } from '../core/rational.js';
import type { Member, MemberKind, MemberStatus, Org, StatusChange } from '../core/types.js';
import type { AlertKind } from '../core/usage-state.js';
import type { ValidEvent } from '../ingest/validate-batch.js';

export interface MemberInput {
  readonly id: string;
  readonly email?: string | null;
  readonly name?: string | null;
  readonly kind?: MemberKind;
  readonly projects?: readonly string[];
  readonly teams?: readonly string[];
  readonly aliases?: readonly { readonly source: string; readonly externalId: string }[];
}

export interface IngestResult {
  /** Newly stored events, late ones included. */
  readonly accepted: number;
  /** Events whose id the org had already (or that repeat an id of the same batch). */
  readonly duplicates: number;
  /** Newly stored events that fall in a closed month. */
  readonly late: number;
}

/** An org and what its invite check reads (see `Store.inviteView`). */
export interface InviteView {
  readonly org: Org;
  /** The `activity` seats held on the day before, the day, and the day after. */
  readonly seatsAround: readonly [number, number, number];
  readonly activeAndInvited: number;
}

export interface ActivityRow {
  readonly member: string;
  readonly day: number;
  readonly source: string;
  readonly events: number;
}

/** Events that arrived for a month after it closed, on one local day, of one member and source. */
export interface LateActivity {
  /** Epoch day in the org's timezone. */
  readonly day: number;
  readonly member: string;
  readonly source: string;
  readonly events: number;
}

export interface MemberHistory {
  readonly member: string;
  readonly changes: StatusChange[];
}

/**
 * The durable home of seatmeter's data. Every method is scoped to one org; both backends (SQLite
 * and PostgreSQL) pass the same contract suite (`test/store-contract.test.ts`).
 */
export interface Store {
  /** Applies every pending migration. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** True when the database answers. */
  ping(): Promise<boolean>;
  /**
   * True when several processes may use the database at once (PostgreSQL): state that instances
   * share, such as rate-limit counts, then lives in the database instead of in each process.
   */
  readonly shared: boolean;
  /**
   * Runs `job` unless another process is running the job of that name right now (a lock held for
   * the job's length; on SQLite, which one process owns, it always runs). Answers whether it ran.
   */
  exclusively(name: string, job: () => Promise<void>): Promise<boolean>;
  /**
   * Runs `close` (reading the month and freezing its statement) while no batch of the org is being
   * stored: batches under way finish first, and batches that start meanwhile wait, so each event is
   * either in the statement or stored as late, never neither. `close` reads and saves through the
   * store it is given, which may be bound to the closing's own transaction: it can read the month
   * and save its statement, not ingest.
   */
  closingMonth<T>(orgId: string, close: (store: Store) => Promise<T>): Promise<T>;
  /** Counts a request against a rate-limit bucket's window and answers the count so far. */
  rateLimitHit(orgId: string, bucket: string, windowStart: number): Promise<number>;
  /** Drops the counts of windows that started before `before`. */
  pruneRateLimits(before: number): Promise<void>;

  /** Creates an org; ConflictError `org_exists` when the id is taken. */
  createOrg(org: Org, now: number): Promise<Org>;
  getOrg(orgId: string): Promise<Org | undefined>;
  listOrgs(): Promise<Org[]>;
  /** Replaces an org's settings (not its id or creation time). */
  updateOrg(org: Org, now: number): Promise<Org>;

  putProject(orgId: string, projectId: string, name: string): Promise<void>;
  putTeam(orgId: string, teamId: string, name: string): Promise<void>;
  listProjects(orgId: string): Promise<Array<{ id: string; name: string }>>;

  /**
   * Creates or updates a member. Fields left out keep their value; `projects`, `teams` and `aliases`
   * replace the lists when given. ConflictError `email_taken` when another member has the email
   * (compared case-insensitively).
   */
  putMember(orgId: string, input: MemberInput, now: number): Promise<Member>;
  getMember(orgId: string, memberId: string): Promise<Member | undefined>;
  /**
   * Invites a member: creates it (or takes one without a status, revoked or deactivated) with
   * `invited` status, unless the org's active + invited count has reached `fairUseCap`
   * (FairUseCapError) or the id is an active, invited or shared member (ConflictError
   * `member_exists`).
   * Invites of one org run one at a time, so two at the cap can never both pass it.
   */
  invite(orgId: string, input: MemberInput, fairUseCap: number | null, now: number): Promise<Member>;
  /**
   * Appends to a member's status history; NotFoundError for an unknown member. The member's status
   * is the one in force at `now`: a change recorded ahead of its `at` takes effect then, when
   * `settleStatuses` runs.
   */
  appendStatus(
    orgId: string,
    memberId: string,
    status: MemberStatus,
    at: number,
    now: number,
  ): Promise<Member>;

  /**
   * Stores a validated batch atomically and durably: ids deduplicated per org, aliases resolved,
   * source-less events given to the source's shared member, unknown members created as active
   * persons, events of closed months stored as late. Concurrent batches of one org are counted as
   * if written one after another: on SQLite in call order (they are written in groups), on
   * PostgreSQL in the order their transactions run.
   */
  ingest(org: Org, events: readonly ValidEvent[], now: number): Promise<IngestResult>;

  /**
   * The daily counts of a month under `activity` presence: distinct members with events on each day,
   * members whose current status is `deactivated` left out.
   */
  activityCounts(orgId: string, calendar: MonthCalendar): Promise<number[]>;
  /**
   * The daily counts of a month under `status` presence: members `active` at some instant of each
   * day, by the histories as they stand (days that have not begun included: the caller cuts them).
   */
  statusCounts(orgId: string, calendar: MonthCalendar): Promise<number[]>;
  /**
   * The activity of a month: one row per member, day (0-based index) and source, with its events;
   * only the members in `range` when given.
   */
  activityRows(orgId: string, calendar: MonthCalendar, range?: MemberRange): Promise<ActivityRow[]>;
  /**
   * The members of the org with projects, teams and aliases, ordered by id: every one, or those in
   * `range` (at most `range.limit`), so long lists are read a page at a time.
   */
  listMembers(orgId: string, range?: MemberRange): Promise<Member[]>;
  /**
   * Status histories of every member that has one (in `range` when given), sorted by `at` then
   * recording order; with `recordedThrough`, only the changes recorded by then (a closed month's
   * lists, as its statement saw them).
   */
  statusHistories(orgId: string, range?: MemberRange, recordedThrough?: number): Promise<MemberHistory[]>;
  /**
   * Puts in force the status changes of the org whose moment has come by `now` (recorded ahead of
   * it): the members' status, their `activity` seats, the active + invited count. Answers how many
   * members were due. The background round runs it for every org.
   */
  settleStatuses(orgId: string, now: number): Promise<number>;
  /** Members whose current status is `active` or `invited`. */
  activeAndInvited(orgId: string): Promise<number>;
  /**
   * The org with what an invite check needs, in one read: the `activity` seats held on the epoch
   * days `day - 1`, `day` and `day + 1`, and the active + invited count. Given the UTC day, the
   * org's local today is one of the three whatever its timezone. Undefined without the org.
   */
  inviteView(orgId: string, day: number): Promise<InviteView | undefined>;
  /**
   * What the usage view reads besides the daily counts, in one read: the active + invited count,
   * the month's late events and its statement when closed.
   */
  monthFacts(
    orgId: string,
    month: string,
  ): Promise<{ activeAndInvited: number; lateEvents: number; statement: StoredStatement | undefined }>;
  /** Late events stored for a month. */
  lateEvents(orgId: string, month: string): Promise<number>;
  /** The late events of a closed month, per epoch day, member and source, in that order. */
  lateActivity(orgId: string, month: string): Promise<LateActivity[]>;
  /** The months of the org that are closed. */
  closedMonths(orgId: string): Promise<string[]>;
  /**
   * Freezes a month's statement; the first one stored wins, and the stored one is returned, so
   * closing twice (or from two instances at once) yields one statement.
   */
  saveStatement(orgId: string, month: string, closedAt: number, body: unknown): Promise<StoredStatement>;
  getStatement(orgId: string, month: string): Promise<StoredStatement | undefined>;

  /**
   * Raises an alert with its deliveries in one transaction, unless the org already has one of that
   * month and kind (the database's unique key decides, so instances racing raise one). True when
   * this call raised it.
   */
  raiseAlert(orgId: string, alert: StoredAlert, deliveries: readonly NewDelivery[]): Promise<boolean>;
  /** The kinds of alert already raised for a month. */
  raisedAlertKinds(orgId: string, month: string): Promise<AlertKind[]>;
  /** The org's alerts, newest first, each with its deliveries and their attempts. */
  listAlerts(orgId: string): Promise<AlertWithDeliveries[]>;
  /**
   * Claims up to `limit` pending deliveries due by `now`, of any org, for `leaseMs`: until then no
   * other caller gets them (row locks on PostgreSQL, one atomic statement on SQLite).
   */
  claimDeliveries(now: number, leaseMs: number, limit: number): Promise<ClaimedDelivery[]>;
  /**
   * Records an attempt of a claimed delivery: sent, or failed and due again at `retryAt` (null:
   * given up). Ignored when the claim is no longer this caller's. True when recorded.
   */
  finishDelivery(claim: ClaimedDelivery, outcome: DeliveryOutcome): Promise<boolean>;

  /** Stores an org key's id, the hash of its secret and its scopes. */
  saveApiKey(orgId: string, key: StoredApiKey, now: number): Promise<void>;
  getApiKey(orgId: string, keyId: string): Promise<StoredApiKey | undefined>;
}

/** Members by id: after `after` (exclusive), up to `through` (inclusive), at most `limit`. */
export interface MemberRange {
  readonly after?: string | undefined;
  readonly through?: string | undefined;
  readonly limit?: number | undefined;
}

export interface StoredAlert {
  readonly id: string;
  readonly kind: AlertKind;
  readonly month: string;
  readonly figure: Rational;
  readonly allowance: number | null;
  readonly message: string;
  readonly createdAt: number;
}

export type DeliveryChannel = 'email' | 'webhook';
export type DeliveryStatus = 'pending' | 'sent' | 'failed';

export interface NewDelivery {
  readonly channel: DeliveryChannel;
  readonly target: string;
}

export interface DeliveryAttempt {
  readonly attempt: number;
  readonly at: number;
  readonly ok: boolean;
  readonly error: string | null;
}

export interface StoredDelivery extends NewDelivery {
  readonly id: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly lastError: string | null;
  /** When it is next tried (epoch ms); null once sent or given up. */
  readonly nextAttemptAt: number | null;
  readonly log: readonly DeliveryAttempt[];
}

export interface AlertWithDeliveries extends StoredAlert {
  readonly deliveries: readonly StoredDelivery[];
}

/** A delivery claimed for sending, with its alert. */
export interface ClaimedDelivery extends NewDelivery {
  readonly orgId: string;
  readonly id: string;
  /** Attempts made before this one. */
  readonly attempts: number;
  readonly claimToken: string;
  readonly alert: StoredAlert;
}

export interface DeliveryOutcome {
  readonly at: number;
  readonly ok: boolean;
  readonly error: string | null;
  /** Failed: when to try again; null gives up (status `failed`). */
  readonly retryAt: number | null;
}

export interface StoredApiKey {
  readonly keyId: string;
  readonly secretHash: string;
  readonly scopes: readonly string[];
}

export interface StoredStatement {
  readonly month: string;
  readonly closedAt: number;
  readonly body: unknown;
}
