import { randomBytes, randomUUID } from 'node:crypto';
import {
  type Expression,
  type ExpressionBuilder,
  type Kysely,
  Migrator,
  type SqlBool,
  sql,
  type Transaction,
} from 'kysely';
import { DayMapper, type MonthCalendar, monthOfEpochDay } from '../core/calendar.js';
import { ConflictError, FairUseCapError, NotFoundError } from '../core/errors.js';
import type { Plan } from '../core/plans.js';
import { activeDayRuns, addRunDeltas, countsFromDeltas, statusAt, statusDeltas } from '../core/presence.js';
import type { Rational } from '../core/rational.js';
import type {
  Aggregation,
  Member,
  MemberKind,
  MemberStatus,
  Org,
  Presence,
  StatusChange,
} from '../core/types.js';
import type { AlertKind } from '../core/usage-state.js';
import { BatchGroups } from '../ingest/batch-groups.js';
import type { ValidEvent } from '../ingest/validate-batch.js';
import { migrationProvider } from './migrations/index.js';
import type { Database, MembersTable, OrgsTable } from './schema.js';
import type {
  ActivityRow,
  AlertWithDeliveries,
  ClaimedDelivery,
  DeliveryChannel,
  DeliveryOutcome,
  DeliveryStatus,
  IngestResult,
  InviteView,
  LateActivity,
  MemberHistory,
  MemberInput,
  MemberRange,
  NewDelivery,
  Store,
  StoredAlert,
  StoredApiKey,
  StoredDelivery,
  StoredStatement,
} from './store.js';

type Db = Kysely<Database> | Transaction<Database>;

/** One caller's batch, as `ingest` was given it. */
interface IngestBatch {
  readonly events: readonly ValidEvent[];
  readonly now: number;
}

/**
 * The most events written as one group of concurrent batches: large enough to share a commit
 * among dozens of HTTP batches, small enough that a group's transaction stays short.
 */
const GROUP_EVENTS = 50_000;
/**
 * How many stored member ids a store remembers, across orgs: a few MB for ids of a few dozen
 * characters, about 50 MB at most with 200-character ids.
 */
const KNOWN_MEMBERS = 200_000;

/** Rows per multi-row INSERT: well under SQLite's and PostgreSQL's bound-parameter limits. */
const INSERT_CHUNK = 500;

function chunks<T>(items: readonly T[], size = INSERT_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The `member_id` condition of a member range (always true without bounds). */
function inMemberRange(range: MemberRange | undefined): Expression<SqlBool> {
  const parts = [];
  if (range?.after !== undefined) parts.push(sql`member_id > ${range.after}`);
  if (range?.through !== undefined) parts.push(sql`member_id <= ${range.through}`);
  return parts.length === 0 ? sql<SqlBool>`1 = 1` : sql<SqlBool>`${sql.join(parts, sql` and `)}`;
}

/**
 * One fixed order of ids for the order writes take their locks in (UTF-16 units: byte order except
 * for characters above U+FFFF against U+E000 to U+FFFF, which does not matter for that).
 */
function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function alertFromRow(row: Database['alerts']): StoredAlert {
  return {
    id: row.alert_id,
    kind: row.kind as AlertKind,
    month: row.month,
    figure: JSON.parse(row.figure) as Rational,
    allowance: row.allowance === null ? null : Number(row.allowance),
    message: row.message,
    createdAt: Number(row.created_at),
  };
}

export function orgFromRow(row: OrgsTable): Org {
  return {
    id: row.org_id,
    name: row.name,
    timezone: row.timezone,
    counting: { presence: row.presence as Presence, aggregation: row.aggregation as Aggregation },
    plan: JSON.parse(row.plan) as Plan,
    fairUseCap: row.fair_use_cap === null ? null : Number(row.fair_use_cap),
    autoCloseDays: Number(row.auto_close_days),
    billingEmails: JSON.parse(row.billing_emails) as string[],
    webhookUrl: row.webhook_url,
    webhookSecret: row.webhook_secret,
    createdAt: Number(row.created_at),
  };
}

function orgToRow(org: Org, now: number): OrgsTable {
  return {
    org_id: org.id,
    name: org.name,
    timezone: org.timezone,
    presence: org.counting.presence,
    aggregation: org.counting.aggregation,
    plan: JSON.stringify(org.plan),
    fair_use_cap: org.fairUseCap,
    auto_close_days: org.autoCloseDays,
    billing_emails: JSON.stringify(org.billingEmails),
    webhook_url: org.webhookUrl,
    webhook_secret: org.webhookSecret,
    created_at: org.createdAt,
    updated_at: now,
  };
}

/**
 * The Store over Kysely, shared by both backends: every query here is written once and runs on
 * SQLite and PostgreSQL alike. A backend subclass only supplies the connection.
 */
export abstract class KyselyStore implements Store {
  /**
   * Whether the database takes row locks (`FOR UPDATE SKIP LOCKED`); SQLite has one writer at a
   * time and claims in one atomic statement instead.
   */
  protected readonly rowLocks: boolean = false;

  protected constructor(protected readonly db: Kysely<Database>) {}

  async migrate(): Promise<void> {
    const { error, results } = await new Migrator({
      db: this.db,
      provider: migrationProvider,
    }).migrateToLatest();
    if (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const failed = results?.find((r) => r.status === 'Error')?.migrationName;
      // No migration ran: the database could not be reached (or read) at all.
      throw new Error(
        failed ? `migration ${failed} failed: ${reason}` : `cannot use the database: ${reason}`,
      );
    }
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  async ping(): Promise<boolean> {
    try {
      await sql`select 1`.execute(this.db);
      return true;
    } catch {
      return false;
    }
  }

  readonly shared: boolean = false;

  /**
   * One process owns a SQLite file: batches and closings of an org are ordered in memory (batches
   * share, a closing is exclusive). PostgreSQL overrides both with advisory locks.
   */
  private readonly orgGates = new Map<
    string,
    { batches: number; closing: Promise<unknown> | null; idle: Array<() => void> }
  >();

  private gate(orgId: string) {
    let g = this.orgGates.get(orgId);
    if (!g) {
      g = { batches: 0, closing: null, idle: [] };
      this.orgGates.set(orgId, g);
    }
    return g;
  }

  /** Runs a batch of the org, after any closing under way. */
  protected async asBatch<T>(orgId: string, batch: () => Promise<T>): Promise<T> {
    const g = this.gate(orgId);
    while (g.closing) await g.closing.catch(() => undefined);
    g.batches++;
    try {
      return await batch();
    } finally {
      g.batches--;
      if (g.batches === 0) for (const wake of g.idle.splice(0)) wake();
    }
  }

  async closingMonth<T>(orgId: string, close: (store: Store) => Promise<T>): Promise<T> {
    const g = this.gate(orgId);
    while (g.closing) await g.closing.catch(() => undefined);
    const run = (async () => {
      while (g.batches > 0) await new Promise<void>((resolve) => g.idle.push(resolve));
      return close(this);
    })();
    g.closing = run;
    try {
      return await run;
    } finally {
      if (g.closing === run) g.closing = null;
    }
  }

  /**
   * This store with its Kysely queries on `trx`, for work that must run inside one transaction (a
   * closing reads the month and saves its statement under the org's lock). Its methods must not
   * open transactions of their own.
   */
  protected boundTo(trx: Transaction<Database>): Store {
    return Object.create(this, { db: { value: trx } }) as Store;
  }

  async exclusively(_name: string, job: () => Promise<void>): Promise<boolean> {
    await job();
    return true;
  }

  async rateLimitHit(orgId: string, bucket: string, windowStart: number): Promise<number> {
    const row = await this.db
      .insertInto('rate_limits')
      .values({ org_id: orgId, bucket, window_start: windowStart, hits: 1 })
      .onConflict((oc) =>
        oc.columns(['org_id', 'bucket', 'window_start']).doUpdateSet({ hits: sql`rate_limits.hits + 1` }),
      )
      .returning('hits')
      .executeTakeFirstOrThrow();
    return Number(row.hits);
  }

  async pruneRateLimits(before: number): Promise<void> {
    await this.db.deleteFrom('rate_limits').where('window_start', '<', before).execute();
  }

  async createOrg(org: Org, now: number): Promise<Org> {
    const inserted = await this.db
      .insertInto('orgs')
      .values(orgToRow(org, now))
      .onConflict((oc) => oc.column('org_id').doNothing())
      .returning('org_id')
      .executeTakeFirst();
    if (!inserted) throw new ConflictError('org_exists', `an org with id '${org.id}' exists already`);
    return org;
  }

  async getOrg(orgId: string): Promise<Org | undefined> {
    const row = await this.db.selectFrom('orgs').selectAll().where('org_id', '=', orgId).executeTakeFirst();
    return row ? orgFromRow(row) : undefined;
  }

  async listOrgs(): Promise<Org[]> {
    const rows = await this.db.selectFrom('orgs').selectAll().orderBy('org_id').execute();
    return rows.map(orgFromRow);
  }

  async updateOrg(org: Org, now: number): Promise<Org> {
    const { org_id, created_at, ...changes } = orgToRow(org, now);
    return this.db.transaction().execute(async (trx) => {
      // Batches and status changes hold this lock shared: none is under way while the timezone,
      // and so every local day, changes.
      await this.orgLock(trx, org_id);
      const timezone = await orgValue(trx, org_id, 'timezone');
      await trx.updateTable('orgs').set(changes).where('org_id', '=', org_id).execute();
      if (timezone !== org.timezone) await this.rebuildStatusDeltas(trx, org_id, org.timezone);
      return org;
    });
  }

  /** Taken by a change of the org's settings: exclusive where `batchLock` is shared (PostgreSQL). */
  protected async orgLock(_trx: Transaction<Database>, _orgId: string): Promise<void> {}

  /** Recomputes the org's status deltas from every history, in the local days of `timezone`. */
  private async rebuildStatusDeltas(trx: Transaction<Database>, orgId: string, timezone: string) {
    await trx.deleteFrom('status_day_deltas').where('org_id', '=', orgId).execute();
    const mapper = new DayMapper(timezone);
    const histories = await this.statusHistoriesOf(trx, orgId);
    await addPerDay(
      trx,
      'status_day_deltas',
      orgId,
      statusDeltas(histories, (ms) => mapper.epochDayOf(ms)),
    );
  }

  async putProject(orgId: string, projectId: string, name: string): Promise<void> {
    await this.db
      .insertInto('projects')
      .values({ org_id: orgId, project_id: projectId, name })
      .onConflict((oc) => oc.columns(['org_id', 'project_id']).doUpdateSet({ name }))
      .execute();
  }

  async putTeam(orgId: string, teamId: string, name: string): Promise<void> {
    await this.db
      .insertInto('teams')
      .values({ org_id: orgId, team_id: teamId, name })
      .onConflict((oc) => oc.columns(['org_id', 'team_id']).doUpdateSet({ name }))
      .execute();
  }

  async listProjects(orgId: string): Promise<Array<{ id: string; name: string }>> {
    const rows = await this.db
      .selectFrom('projects')
      .select(['project_id', 'name'])
      .where('org_id', '=', orgId)
      .orderBy('project_id')
      .execute();
    return rows.map((r) => ({ id: r.project_id, name: r.name }));
  }

  async putMember(orgId: string, input: MemberInput, now: number): Promise<Member> {
    return this.db.transaction().execute((trx) => this.putMemberIn(trx, orgId, input, now));
  }

  private async putMemberIn(
    trx: Transaction<Database>,
    orgId: string,
    input: MemberInput,
    now: number,
  ): Promise<Member> {
    const existing = await trx
      .selectFrom('members')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('member_id', '=', input.id)
      .executeTakeFirst();
    const email = input.email === undefined ? (existing?.email ?? null) : input.email;
    const emailLower = email === null ? null : email.toLowerCase();
    if (emailLower !== null) {
      const holder = await trx
        .selectFrom('members')
        .select('member_id')
        .where('org_id', '=', orgId)
        .where('email_lower', '=', emailLower)
        .where('member_id', '!=', input.id)
        .executeTakeFirst();
      if (holder)
        throw new ConflictError('email_taken', `member '${holder.member_id}' has the email ${email}`);
    }
    const name = input.name === undefined ? (existing?.name ?? null) : input.name;
    const kind = input.kind ?? (existing?.kind as MemberKind | undefined) ?? 'person';
    if (existing) {
      await trx
        .updateTable('members')
        .set({ email, email_lower: emailLower, name, kind, updated_at: now })
        .where('org_id', '=', orgId)
        .where('member_id', '=', input.id)
        .execute();
    } else {
      await trx
        .insertInto('members')
        .values({
          org_id: orgId,
          member_id: input.id,
          email,
          email_lower: emailLower,
          name,
          kind,
          status: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
    }
    if (input.projects) await replaceLinks(trx, 'projects', orgId, input.id, input.projects);
    if (input.teams) await replaceLinks(trx, 'teams', orgId, input.id, input.teams);
    if (input.aliases) {
      await trx.deleteFrom('aliases').where('org_id', '=', orgId).where('member_id', '=', input.id).execute();
      for (const part of chunks(input.aliases)) {
        await trx
          .insertInto('aliases')
          .values(
            part.map((a) => ({
              org_id: orgId,
              source: a.source,
              external_id: a.externalId,
              member_id: input.id,
            })),
          )
          .onConflict((oc) =>
            oc.columns(['org_id', 'source', 'external_id']).doUpdateSet({ member_id: input.id }),
          )
          .execute();
      }
    }
    return readMember(trx, orgId, input.id) as Promise<Member>;
  }

  async getMember(orgId: string, memberId: string): Promise<Member | undefined> {
    return readMember(this.db, orgId, memberId);
  }

  async invite(orgId: string, input: MemberInput, fairUseCap: number | null, now: number): Promise<Member> {
    return this.db.transaction().execute(async (trx) => {
      // The org's shared lock first, as every batch and status change takes it, then the invites'.
      await this.batchLock(trx, orgId);
      await this.inviteLock(trx, orgId);
      const activeInvited = await orgValue(trx, orgId, 'active_invited');
      if (fairUseCap !== null && activeInvited >= fairUseCap) throw new FairUseCapError(fairUseCap);
      // A member without a status, revoked or deactivated may be invited (again); one active or
      // invited already, or a shared member, may not. Its row is locked before deciding, so a
      // status change cannot slip in between.
      const existing = (await this.lockMember(trx, orgId, input.id))
        ? await readMember(trx, orgId, input.id)
        : undefined;
      if (
        existing &&
        (existing.kind === 'shared' || existing.status === 'active' || existing.status === 'invited')
      ) {
        throw new ConflictError(
          'member_exists',
          `member '${input.id}' exists already${existing.status ? ` and is ${existing.status}` : ''}`,
        );
      }
      if (existing) {
        // Its seats move (back from deactivated) before its projects are written, in the order
        // ingest takes them: two transactions never wait on each other's rows in opposite orders.
        return this.appendStatusIn(trx, orgId, input.id, 'invited', now, now, () =>
          this.putMemberIn(trx, orgId, input, now),
        );
      }
      await this.putMemberIn(trx, orgId, input, now);
      return this.appendStatusIn(trx, orgId, input.id, 'invited', now, now);
    });
  }

  /** Taken first by an invite: one invite of the org at a time (PostgreSQL locks here). */
  protected async inviteLock(_trx: Transaction<Database>, _orgId: string): Promise<void> {}

  async appendStatus(
    orgId: string,
    memberId: string,
    status: MemberStatus,
    at: number,
    now: number,
  ): Promise<Member> {
    return this.db.transaction().execute((trx) => this.appendStatusIn(trx, orgId, memberId, status, at, now));
  }

  private async appendStatusIn(
    trx: Transaction<Database>,
    orgId: string,
    memberId: string,
    status: MemberStatus,
    at: number,
    now: number,
    /** Run once the member's seats have moved, before the status counts and the org's row. */
    beforeCounts?: () => Promise<unknown>,
  ): Promise<Member> {
    const exists = await this.lockMember(trx, orgId, memberId);
    if (!exists) throw new NotFoundError('member', memberId);
    const before = await historyOf(trx, orgId, memberId);
    // Among changes at one instant the last recorded wins, so each change gets the next seq.
    const seq = before.reduce((max, c) => Math.max(max, c.seq), 0) + 1;
    await trx
      .insertInto('status_changes')
      .values({ org_id: orgId, member_id: memberId, at, seq, status, recorded_at: now })
      .execute();
    // The new change in its place: after the changes at or before its moment (at one instant the
    // later-recorded change wins, and the new one is recorded last).
    const place = before.findIndex((c) => c.at > at);
    const after: StatusChange[] = [...before];
    after.splice(place === -1 ? after.length : place, 0, { status, at });
    const is = await this.settleStatusIn(trx, orgId, memberId, exists.status, after, now);
    await beforeCounts?.();
    // The member's runs of active days before and after the change move the status deltas.
    const mapper = new DayMapper(await orgValue(trx, orgId, 'timezone'));
    const epochDayOf = (ms: number) => mapper.epochDayOf(ms);
    const deltas = new Map<number, number>();
    addRunDeltas(deltas, activeDayRuns(before, epochDayOf), -1);
    addRunDeltas(deltas, activeDayRuns(after, epochDayOf), 1);
    await addPerDay(trx, 'status_day_deltas', orgId, deltas);
    // The org row last, as in ingest: the two never wait on each other in opposite orders.
    await countActiveInvited(trx, orgId, exists.status, is);
    return readMember(trx, orgId, memberId) as Promise<Member>;
  }

  /**
   * Puts on the member's row the status in force at `now` (its `changes`, sorted, are the whole
   * history) and the moment of its next change, and moves its `activity` seats when it turns
   * deactivated or back: a seat less on each of its days, or back on each (a day it alone had
   * activity on may have no row yet), in day order as ingest adds seats, so two writers never wait
   * on each other's days in opposite orders. Answers the status now; the caller moves the org's
   * active + invited count (`countActiveInvited`) last.
   */
  private async settleStatusIn(
    trx: Transaction<Database>,
    orgId: string,
    memberId: string,
    was: string | null,
    changes: readonly StatusChange[],
    now: number,
  ): Promise<string | null> {
    const is = statusAt(changes, now) ?? null;
    const due = changes.find((c) => c.at > now)?.at ?? null;
    await trx
      .updateTable('members')
      .set({ status: is, status_due_at: due, updated_at: now })
      .where('org_id', '=', orgId)
      .where('member_id', '=', memberId)
      .execute();
    if ((is === 'deactivated') !== (was === 'deactivated')) {
      const days = await trx
        .selectFrom('activity_days')
        .select('day')
        .distinct()
        .where('org_id', '=', orgId)
        .where('member_id', '=', memberId)
        .orderBy('day')
        .execute();
      const seat = is === 'deactivated' ? -1 : 1;
      await addPerDay(trx, 'day_seats', orgId, new Map(days.map((d) => [Number(d.day), seat])));
    }
    return is;
  }

  /**
   * Locks a member for a status change, after the org's shared lock as a batch takes it (a change
   * of the org's timezone, which rebuilds the status deltas, waits): an ingest adding the member's
   * seats waits, or is waited for.
   */
  private async lockMember(trx: Transaction<Database>, orgId: string, memberId: string) {
    await this.batchLock(trx, orgId);
    return trx
      .selectFrom('members')
      .select(['status', 'status_due_at'])
      .where('org_id', '=', orgId)
      .where('member_id', '=', memberId)
      .$if(this.rowLocks, (q) => q.forUpdate())
      .executeTakeFirst();
  }

  async settleStatuses(orgId: string, now: number): Promise<number> {
    const due = await this.db
      .selectFrom('members')
      .select('member_id')
      .where('org_id', '=', orgId)
      .where('status_due_at', '<=', now)
      .orderBy('member_id')
      .execute();
    for (const { member_id: memberId } of due) {
      await this.db.transaction().execute(async (trx) => {
        const member = await this.lockMember(trx, orgId, memberId);
        // Settled meanwhile (another instance, or a status change).
        if (member?.status_due_at === null || member?.status_due_at === undefined) return;
        if (Number(member.status_due_at) > now) return;
        const history = await historyOf(trx, orgId, memberId);
        const is = await this.settleStatusIn(trx, orgId, memberId, member.status, history, now);
        await countActiveInvited(trx, orgId, member.status, is);
      });
    }
    return due.length;
  }

  /**
   * Whether concurrent batches of one org (HTTP requests) are written together, a group at a time,
   * as if one after the other in arrival order (see `BatchGroups`): where the database writes one
   * transaction at a time anyway (SQLite), they then share its commit. PostgreSQL runs them as
   * concurrent transactions instead, on several connections and instances.
   */
  protected readonly groupsBatches: boolean = true;

  private readonly batchGroups = new BatchGroups<IngestBatch, IngestResult>(
    (orgId, batches) => this.ingestGroup(orgId, batches),
    GROUP_EVENTS,
  );

  async ingest(org: Org, events: readonly ValidEvent[], now: number): Promise<IngestResult> {
    if (events.length === 0) return { accepted: 0, duplicates: 0, late: 0 };
    const batch = { events, now };
    if (this.groupsBatches) return this.batchGroups.add(org.id, batch);
    return (await this.ingestGroup(org.id, [batch]))[0] as IngestResult;
  }

  /**
   * Writes a group of an org's batches in one transaction, each answered as if it had been
   * written alone after the ones before it: an id that an earlier batch of the group brings is a
   * duplicate in a later one, and a member is created at the `now` of the batch that first counts
   * an event of it.
   */
  private async ingestGroup(orgId: string, batches: readonly IngestBatch[]): Promise<IngestResult[]> {
    // The group's events are numbered across its batches, in order.
    const total = batches.reduce((n, b) => n + b.events.length, 0);
    // Each event's (source, member) pair, numbered: members are resolved once per pair, and the
    // pair's number keys the event's activity row without building a string per event. A pair
    // names its member from the moment of the batch it first appears in.
    const pairs = new SourcePairs();
    const pairOf = new Int32Array(total);
    const ids = new Array<string>(total);
    // Where each batch's ids end.
    const ends: number[] = [];
    let next = 0;
    for (const b of batches) {
      for (const e of b.events) {
        pairOf[next] = pairs.number(e.source, e.member, b.now);
        ids[next++] = e.id;
      }
      ends.push(next);
    }

    return this.asBatch(orgId, () =>
      this.db.transaction().execute(async (trx) => {
        await this.batchLock(trx, orgId);
        // The timezone as it stands under the lock: the callers read their org before.
        const { timezone, closed, hasAliases } = await this.batchFacts(trx, orgId);
        const known = await this.insertEvents(trx, orgId, ids, ends);
        // Only when some id was known or repeated: which events count. A repeated id inside one
        // batch is a duplicate like a re-sent one, and the first occurrence wins. Members are
        // resolved (and created) for counted events only.
        let counted: Uint8Array | undefined;
        let used = pairs.list;
        if (known !== undefined) {
          counted = new Uint8Array(total);
          const seen = new Set<string>();
          const usedPairs = new Set<number>();
          let i = 0;
          for (const b of batches) {
            for (const e of b.events) {
              const n = i++;
              if (known.has(e.id) || seen.has(e.id)) continue;
              seen.add(e.id);
              counted[n] = 1;
              // The pair's moment is that of its first counted event.
              const pair = pairOf[n] as number;
              if (!usedPairs.has(pair)) (pairs.list[pair] as SourcePair).createdAt = b.now;
              usedPairs.add(pair);
            }
          }
          used = [...usedPairs].map((n) => pairs.list[n] as SourcePair);
        }
        const personsAt = await this.resolveMembers(trx, orgId, used, hasAliases);
        // Pairs that resolved to one member of one source (an alias and the member's own id) share
        // one activity row: each pair's row is numbered by the first such pair.
        const rowOf = new Int32Array(pairs.list.length);
        const firstOf = new Map<string, number>();
        pairs.list.forEach((p, n) => {
          const key = `${p.memberId}\u0000${p.source}`;
          const first = firstOf.get(key) ?? n;
          firstOf.set(key, first);
          rowOf[n] = first;
        });

        const mapper = new DayMapper(timezone);
        const perDay = new Map<number, Database['activity_days']>();
        const memberProjects = new Map<string, Database['member_projects']>();
        // Per batch of the group.
        const accepted = new Array<number>(batches.length).fill(0);
        const late = new Array<number>(batches.length).fill(0);
        // Events come mostly in time order: the month of the previous event's day is reused.
        let lastDay = Number.NaN;
        let lastMonth = '';
        const width = pairs.list.length;
        let i = 0;
        for (const [batch, b] of batches.entries()) {
          for (const e of b.events) {
            const n = i++;
            if (counted !== undefined && counted[n] === 0) continue;
            accepted[batch] = (accepted[batch] as number) + 1;
            const pair = pairOf[n] as number;
            const memberId = (pairs.list[pair] as SourcePair).memberId;
            if (e.project !== undefined) {
              memberProjects.set(`${memberId}\u0000${e.project}`, {
                org_id: orgId,
                member_id: memberId,
                project_id: e.project,
              });
            }
            const day = mapper.epochDayOf(e.at);
            if (day !== lastDay) {
              lastDay = day;
              lastMonth = monthOfEpochDay(day);
            }
            if (closed.has(lastMonth)) late[batch] = (late[batch] as number) + 1;
            // One activity row per (day, member, source); those of closed months are kept as late.
            const key = day * width + (rowOf[pair] as number);
            const agg = perDay.get(key);
            if (agg) agg.events++;
            else perDay.set(key, { org_id: orgId, day, member_id: memberId, source: e.source, events: 1 });
          }
        }

        const activity: Database['activity_days'][] = [];
        const lateRows: Database['late_activity'][] = [];
        const latePerMonth = new Map<string, number>();
        for (const row of perDay.values()) {
          const month = closed.size === 0 ? undefined : monthOfEpochDay(row.day);
          if (month === undefined || !closed.has(month)) {
            activity.push(row);
            continue;
          }
          lateRows.push({ ...row, month });
          latePerMonth.set(month, (latePerMonth.get(month) ?? 0) + row.events);
        }
        await this.addActivity(trx, activity);
        await this.addSeats(trx, orgId, activity);
        // Key order, as for activity: overlapping concurrent upserts queue instead of deadlocking.
        lateRows.sort(
          (a, b) => a.day - b.day || byText(a.member_id, b.member_id) || byText(a.source, b.source),
        );
        for (const part of chunks(lateRows)) {
          await trx
            .insertInto('late_activity')
            .values(part)
            .onConflict((oc) =>
              oc
                .columns(['org_id', 'month', 'day', 'member_id', 'source'])
                .doUpdateSet({ events: sql`late_activity.events + excluded.events` }),
            )
            .execute();
        }
        for (const [month, n] of latePerMonth) {
          await trx
            .insertInto('late_events')
            .values({ org_id: orgId, month, events: n })
            .onConflict((oc) =>
              oc
                .columns(['org_id', 'month'])
                .doUpdateSet({ events: sql`late_events.events + excluded.events` }),
            )
            .execute();
        }
        if (memberProjects.size > 0) {
          const links = [...memberProjects.values()].sort(
            (a, b) => byText(a.member_id, b.member_id) || byText(a.project_id, b.project_id),
          );
          const projects = [...new Set(links.map((l) => l.project_id))].sort(byText);
          await ensureNamed(trx, 'projects', orgId, projects);
          for (const part of chunks(links)) {
            await trx
              .insertInto('member_projects')
              .values(part)
              .onConflict((oc) => oc.doNothing())
              .execute();
          }
        }
        // New persons are active from their creation: one more seat under `status` presence from
        // that day on, and the org's count moves last, after every member and seat row, in the
        // same order as a status change takes them.
        if (personsAt.length > 0) {
          const joined = new Map<number, number>();
          for (const at of personsAt) {
            const day = mapper.epochDayOf(at);
            joined.set(day, (joined.get(day) ?? 0) + 1);
          }
          await addPerDay(trx, 'status_day_deltas', orgId, joined);
          await adjustActiveInvited(trx, orgId, personsAt.length);
        }
        return batches.map((b, n) => ({
          accepted: accepted[n] as number,
          duplicates: b.events.length - (accepted[n] as number),
          late: late[n] as number,
        }));
      }),
    );
  }

  /** Taken at the start of a batch's transaction: see `closingMonth` (PostgreSQL locks here). */
  protected async batchLock(_trx: Transaction<Database>, _orgId: string): Promise<void> {}

  /** What a group of batches reads of its org first, under the lock. NotFoundError without the org. */
  protected async batchFacts(trx: Transaction<Database>, orgId: string): Promise<BatchFacts> {
    const row = await trx
      .selectFrom('orgs')
      .select((eb) => [
        'timezone',
        eb.exists(eb.selectFrom('aliases').select('org_id').where('org_id', '=', orgId)).as('has_aliases'),
      ])
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    if (row === undefined) throw new NotFoundError('org', orgId);
    return {
      timezone: row.timezone,
      closed: new Set(await closedMonthsOf(trx, orgId)),
      hasAliases: Boolean(row.has_aliases),
    };
  }

  /**
   * Member ids seen stored, per org. Members are never deleted, so a batch looks up only the
   * others. Ids are added only when read stored, never when this store inserts them: the insert's
   * transaction may yet roll back.
   */
  private readonly storedMembers = new KnownIds(KNOWN_MEMBERS);

  /**
   * `column` is one of `values`, given as one bound array, whatever its length: the statement's
   * text stays the same, and no list of thousands of parameters is built.
   */
  protected abstract anyOf(column: string, values: readonly string[]): Expression<SqlBool>;

  /**
   * Gives each (source, member) pair of a batch the member it belongs to: an alias of the source,
   * else the member id itself (created as an active person when unknown); without a member, the
   * source's shared member (created on first use). A member is created at the `createdAt` of the
   * first pair that names it: when a member id is also a source's name, the first pair decides
   * whether it is a person or the shared member. Answers when each person it created was created.
   */
  protected async resolveMembers(
    trx: Db,
    orgId: string,
    pairs: SourcePair[],
    /** False when the org has no alias at all: none is looked up. */
    hasAliases: boolean,
  ): Promise<number[]> {
    const owners = new Map<string, string>();
    const wanted = new Map<string, SourcePair>();
    for (const p of pairs) wanted.set(ownerKey(p), p);

    // Look aliases up by external id (one indexed lookup per id) and match the source here: a long
    // OR of (source, id) pairs is far slower on both databases.
    const externalIds = new Set<string>();
    if (hasAliases) for (const p of pairs) if (p.member !== undefined) externalIds.add(p.member);
    if (externalIds.size > 0) {
      const aliases = await trx
        .selectFrom('aliases')
        .select(['source', 'external_id', 'member_id'])
        .where('org_id', '=', orgId)
        .where(this.anyOf('external_id', [...externalIds]))
        .execute();
      for (const a of aliases) {
        const key = `${a.source}\u0000${a.external_id}`;
        if (wanted.has(key)) owners.set(key, a.member_id);
      }
    }

    const candidates = new Map<string, { kind: MemberKind; at: number }>();
    for (const [key, w] of wanted) {
      if (owners.has(key)) continue;
      const id = w.member ?? w.source;
      if (!candidates.has(id))
        candidates.set(id, { kind: w.member === undefined ? 'shared' : 'person', at: w.createdAt });
    }
    // The cache may start over meanwhile: what this batch found stored is kept here too.
    const stored = new Set<string>();
    const unseen = [...candidates.keys()].filter((id) => {
      if (!this.storedMembers.has(orgId, id)) return true;
      stored.add(id);
      return false;
    });
    if (unseen.length > 0) {
      const rows = await trx
        .selectFrom('members')
        .select('member_id')
        .where('org_id', '=', orgId)
        .where(this.anyOf('member_id', unseen))
        .execute();
      for (const r of rows) {
        stored.add(r.member_id);
        this.storedMembers.add(orgId, r.member_id);
      }
    }
    // In id order, so concurrent batches (other instances) lock new members in the same order; one
    // that another transaction created first is left to it.
    const created = [...candidates].filter(([id]) => !stored.has(id)).sort(([a], [b]) => byText(a, b));
    const inserted = new Set<string>();
    for (const part of chunks(created)) {
      const rows = await trx
        .insertInto('members')
        .values(
          part.map(([id, { kind, at }]) => ({
            org_id: orgId,
            member_id: id,
            email: null,
            email_lower: null,
            name: kind === 'shared' ? id : null,
            kind,
            // A new person is active from its creation; its history starts with that one change.
            status: kind === 'person' ? 'active' : null,
            created_at: at,
            updated_at: at,
          })),
        )
        .onConflict((oc) => oc.columns(['org_id', 'member_id']).doNothing())
        .returning('member_id')
        .execute();
      for (const r of rows) inserted.add(r.member_id);
    }
    const persons = created.filter(([id, { kind }]) => kind === 'person' && inserted.has(id));
    for (const part of chunks(persons)) {
      await trx
        .insertInto('status_changes')
        .values(
          part.map(([memberId, { at }]) => ({
            org_id: orgId,
            member_id: memberId,
            at,
            seq: 1,
            status: 'active',
            recorded_at: at,
          })),
        )
        .execute();
    }

    for (const [key, w] of wanted) w.memberId = owners.get(key) ?? w.member ?? w.source;
    return persons.map(([, { at }]) => at);
  }

  /**
   * Stores the event ids the org does not have yet. Answers nothing when every id was new and
   * none repeated (the usual case), else the ids the org had before the batch. The hot path of
   * ingest: a backend may replace it with hand-tuned SQL on the same transaction.
   */
  protected async insertEvents(
    trx: Transaction<Database>,
    orgId: string,
    ids: readonly string[],
    /** Where each batch of the group ends in `ids` (SQLite stores each batch's ids apart). */
    _ends: readonly number[],
  ): Promise<Set<string> | undefined> {
    const inserted = new Set<string>();
    // Key order: concurrent transactions that insert overlapping ids wait on each other instead
    // of deadlocking.
    const distinct = [...new Set(ids)].sort(byText);
    for (const part of chunks(distinct)) {
      const rows = await trx
        .insertInto('events')
        .values(part.map((event_id) => ({ org_id: orgId, event_id })))
        .onConflict((oc) => oc.columns(['org_id', 'event_id']).doNothing())
        .returning('event_id')
        .execute();
      for (const r of rows) inserted.add(r.event_id);
    }
    if (inserted.size === ids.length) return undefined;
    return new Set(distinct.filter((id) => !inserted.has(id)));
  }

  /** Adds event counts to the per-member, day and source activity rows. */
  protected async addActivity(trx: Transaction<Database>, rows: Database['activity_days'][]): Promise<void> {
    // Key order, as for events: overlapping concurrent upserts queue instead of deadlocking.
    rows.sort((a, b) => a.day - b.day || byText(a.member_id, b.member_id) || byText(a.source, b.source));
    for (const part of chunks(rows)) {
      await trx
        .insertInto('activity_days')
        .values(part)
        .onConflict((oc) =>
          oc
            .columns(['org_id', 'day', 'member_id', 'source'])
            .doUpdateSet({ events: sql`activity_days.events + excluded.events` }),
        )
        .execute();
    }
  }

  /**
   * Records the member-days of new activity and gives each new one a seat on its day, unless its
   * member is deactivated. On PostgreSQL the members are read `FOR SHARE`, so a concurrent status
   * change waits for this batch (or this batch for it) and never misses a day.
   */
  protected async addSeats(
    trx: Transaction<Database>,
    orgId: string,
    activity: Iterable<Database['activity_days']>,
  ): Promise<void> {
    const pairs = new Map<string, Database['member_days']>();
    for (const a of activity) {
      pairs.set(`${a.day}\u0000${a.member_id}`, { org_id: orgId, day: a.day, member_id: a.member_id });
    }
    if (pairs.size === 0) return;
    const fresh = await this.insertMemberDays(trx, [...pairs.values()]);
    if (fresh.length === 0) return;
    const deactivated = new Set<string>();
    const rows = await trx
      .selectFrom('members')
      .select(['member_id', 'status'])
      .where('org_id', '=', orgId)
      .where(this.anyOf('member_id', [...new Set(fresh.map((f) => f.member_id))].sort(byText)))
      .orderBy('member_id')
      .$if(this.rowLocks, (q) => q.forShare())
      .execute();
    for (const r of rows) if (r.status === 'deactivated') deactivated.add(r.member_id);
    const perDay = new Map<number, number>();
    for (const f of fresh) {
      if (!deactivated.has(f.member_id)) perDay.set(f.day, (perDay.get(f.day) ?? 0) + 1);
    }
    await addPerDay(trx, 'day_seats', orgId, perDay);
  }

  /** Inserts member-days, skipping those known, and answers the ones newly stored. */
  protected async insertMemberDays(
    trx: Transaction<Database>,
    rows: Database['member_days'][],
  ): Promise<Array<{ day: number; member_id: string }>> {
    // Key order, as for events.
    rows.sort((a, b) => a.day - b.day || byText(a.member_id, b.member_id));
    const fresh: Array<{ day: number; member_id: string }> = [];
    for (const part of chunks(rows)) {
      const got = await trx
        .insertInto('member_days')
        .values(part)
        .onConflict((oc) => oc.columns(['org_id', 'day', 'member_id']).doNothing())
        .returning(['day', 'member_id'])
        .execute();
      for (const g of got) fresh.push({ day: Number(g.day), member_id: g.member_id });
    }
    return fresh;
  }

  async activityCounts(orgId: string, calendar: MonthCalendar): Promise<number[]> {
    // Kept up to date by ingest and status changes (see addSeats): one row per day to read.
    const rows = await this.db
      .selectFrom('day_seats')
      .select(['day', 'seats'])
      .where('org_id', '=', orgId)
      .where('day', '>=', calendar.firstDay)
      .where('day', '<', calendar.firstDay + calendar.days)
      .execute();
    const counts = new Array<number>(calendar.days).fill(0);
    for (const r of rows) counts[Number(r.day) - calendar.firstDay] = Number(r.seats);
    return counts;
  }

  async statusCounts(orgId: string, calendar: MonthCalendar): Promise<number[]> {
    // One statement, so one snapshot: the deltas of the days before the month come summed into
    // one row (dated the day before it), the month's days as they are.
    const { firstDay, days } = calendar;
    const { rows } = await sql<{ day: number; delta: number }>`select
        case when day < ${firstDay} then ${firstDay - 1} else day end as day, sum(delta) as delta
      from status_day_deltas where ${sql.ref('org_id')} = ${orgId} and day < ${firstDay + days}
      group by 1`.execute(this.db);
    return countsFromDeltas(
      rows.map((r) => [Number(r.day), Number(r.delta)] as const),
      firstDay,
      days,
    );
  }

  async activityRows(orgId: string, calendar: MonthCalendar, range?: MemberRange): Promise<ActivityRow[]> {
    const rows = await this.db
      .selectFrom('activity_days')
      .select(['member_id', 'day', 'source', 'events'])
      .where('org_id', '=', orgId)
      .where(inMemberRange(range))
      .where('day', '>=', calendar.firstDay)
      .where('day', '<', calendar.firstDay + calendar.days)
      .execute();
    return rows.map((r) => ({
      member: r.member_id,
      day: Number(r.day) - calendar.firstDay,
      source: r.source,
      events: Number(r.events),
    }));
  }

  async listMembers(orgId: string, range?: MemberRange): Promise<Member[]> {
    const rows = await this.db
      .selectFrom('members')
      .selectAll()
      .where('org_id', '=', orgId)
      .where(inMemberRange(range))
      .orderBy('member_id')
      .$if(range?.limit !== undefined, (q) => q.limit(range?.limit as number))
      .execute();
    if (rows.length === 0) return [];
    // The links of exactly the members read: a limited page ends at its last member.
    const read: MemberRange = { after: range?.after, through: rows.at(-1)?.member_id };
    const [projects, teams, aliases] = await Promise.all([
      this.db
        .selectFrom('member_projects')
        .select(['member_id', 'project_id as id'])
        .where('org_id', '=', orgId)
        .where(inMemberRange(read))
        .orderBy('project_id')
        .execute(),
      this.db
        .selectFrom('member_teams')
        .select(['member_id', 'team_id as id'])
        .where('org_id', '=', orgId)
        .where(inMemberRange(read))
        .orderBy('team_id')
        .execute(),
      this.db
        .selectFrom('aliases')
        .select(['member_id', 'source', 'external_id'])
        .where('org_id', '=', orgId)
        .where(inMemberRange(read))
        .orderBy('source')
        .orderBy('external_id')
        .execute(),
    ]);
    const group = <T extends { member_id: string }>(items: T[]) => {
      const map = new Map<string, T[]>();
      for (const item of items) {
        const list = map.get(item.member_id);
        if (list) list.push(item);
        else map.set(item.member_id, [item]);
      }
      return map;
    };
    const p = group(projects);
    const t = group(teams);
    const a = group(aliases);
    return rows.map((row) =>
      memberFromRow(
        row,
        (p.get(row.member_id) ?? []).map((x) => x.id),
        (t.get(row.member_id) ?? []).map((x) => x.id),
        (a.get(row.member_id) ?? []).map((x) => ({ source: x.source, externalId: x.external_id })),
      ),
    );
  }

  async statusHistories(
    orgId: string,
    range?: MemberRange,
    recordedThrough?: number,
  ): Promise<MemberHistory[]> {
    return this.statusHistoriesOf(this.db, orgId, range, recordedThrough);
  }

  private async statusHistoriesOf(
    db: Db,
    orgId: string,
    range?: MemberRange,
    recordedThrough?: number,
  ): Promise<MemberHistory[]> {
    const rows = await db
      .selectFrom('status_changes')
      .select(['member_id', 'status', 'at'])
      .where('org_id', '=', orgId)
      .where(inMemberRange(range))
      .$if(recordedThrough !== undefined, (q) => q.where('recorded_at', '<=', recordedThrough as number))
      .orderBy('member_id')
      .orderBy('at')
      .orderBy('seq')
      .execute();
    const out: MemberHistory[] = [];
    let current: MemberHistory | undefined;
    for (const r of rows) {
      if (current?.member !== r.member_id) {
        current = { member: r.member_id, changes: [] };
        out.push(current);
      }
      current.changes.push({ status: r.status as MemberStatus, at: Number(r.at) });
    }
    return out;
  }

  async activeAndInvited(orgId: string): Promise<number> {
    // Kept up to date by status changes and new members (see adjustActiveInvited).
    const row = await this.db
      .selectFrom('orgs')
      .select('active_invited')
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    return Number(row?.active_invited ?? 0);
  }

  async inviteView(orgId: string, day: number): Promise<InviteView | undefined> {
    const seatsOn = (eb: ExpressionBuilder<Database, 'orgs'>, on: number) =>
      eb.selectFrom('day_seats').select('seats').where('org_id', '=', orgId).where('day', '=', on);
    const row = await this.db
      .selectFrom('orgs')
      .selectAll()
      .select((eb) => [
        seatsOn(eb, day - 1).as('seats_before'),
        seatsOn(eb, day).as('seats_on'),
        seatsOn(eb, day + 1).as('seats_after'),
      ])
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    return {
      org: orgFromRow(row),
      seatsAround: [Number(row.seats_before ?? 0), Number(row.seats_on ?? 0), Number(row.seats_after ?? 0)],
      activeAndInvited: Number(row.active_invited),
    };
  }

  async lateActivity(orgId: string, month: string): Promise<LateActivity[]> {
    const rows = await this.db
      .selectFrom('late_activity')
      .select(['day', 'member_id', 'source', 'events'])
      .where('org_id', '=', orgId)
      .where('month', '=', month)
      .orderBy('day')
      .orderBy('member_id')
      .orderBy('source')
      .execute();
    return rows.map((r) => ({
      day: Number(r.day),
      member: r.member_id,
      source: r.source,
      events: Number(r.events),
    }));
  }

  async lateEvents(orgId: string, month: string): Promise<number> {
    const row = await this.db
      .selectFrom('late_events')
      .select('events')
      .where('org_id', '=', orgId)
      .where('month', '=', month)
      .executeTakeFirst();
    return row ? Number(row.events) : 0;
  }

  async closedMonths(orgId: string): Promise<string[]> {
    return closedMonthsOf(this.db, orgId);
  }

  async saveStatement(
    orgId: string,
    month: string,
    closedAt: number,
    body: unknown,
  ): Promise<StoredStatement> {
    await this.db
      .insertInto('statements')
      .values({ org_id: orgId, month, closed_at: closedAt, body: JSON.stringify(body) })
      .onConflict((oc) => oc.columns(['org_id', 'month']).doNothing())
      .execute();
    return (await this.getStatement(orgId, month)) as StoredStatement;
  }

  async raiseAlert(orgId: string, alert: StoredAlert, deliveries: readonly NewDelivery[]): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('alerts')
        .values({
          org_id: orgId,
          alert_id: alert.id,
          month: alert.month,
          kind: alert.kind,
          figure: JSON.stringify({
            numerator: alert.figure.numerator,
            denominator: alert.figure.denominator,
          }),
          allowance: alert.allowance,
          message: alert.message,
          created_at: alert.createdAt,
        })
        .onConflict((oc) => oc.columns(['org_id', 'month', 'kind']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return false;
      if (deliveries.length > 0) {
        await trx
          .insertInto('deliveries')
          .values(
            deliveries.map((d) => ({
              org_id: orgId,
              delivery_id: `dl_${randomBytes(8).toString('hex')}`,
              alert_id: alert.id,
              channel: d.channel,
              target: d.target,
              status: 'pending',
              attempts: 0,
              last_error: null,
              next_attempt_at: alert.createdAt,
              claim_token: null,
              claimed_until: null,
              created_at: alert.createdAt,
            })),
          )
          .execute();
      }
      return true;
    });
  }

  async raisedAlertKinds(orgId: string, month: string): Promise<AlertKind[]> {
    const rows = await this.db
      .selectFrom('alerts')
      .select('kind')
      .where('org_id', '=', orgId)
      .where('month', '=', month)
      .execute();
    return rows.map((r) => r.kind as AlertKind);
  }

  async listAlerts(orgId: string): Promise<AlertWithDeliveries[]> {
    const [alerts, deliveries, attempts] = await Promise.all([
      this.db
        .selectFrom('alerts')
        .selectAll()
        .where('org_id', '=', orgId)
        .orderBy('created_at', 'desc')
        .orderBy('alert_id', 'desc')
        .execute(),
      this.db
        .selectFrom('deliveries')
        .selectAll()
        .where('org_id', '=', orgId)
        .orderBy('channel')
        .orderBy('target')
        .execute(),
      this.db
        .selectFrom('delivery_attempts')
        .selectAll()
        .where('org_id', '=', orgId)
        .orderBy('attempt')
        .execute(),
    ]);
    const log = new Map<string, StoredDelivery['log'][number][]>();
    for (const a of attempts) {
      const entry = { attempt: Number(a.attempt), at: Number(a.at), ok: Number(a.ok) === 1, error: a.error };
      const list = log.get(a.delivery_id);
      if (list) list.push(entry);
      else log.set(a.delivery_id, [entry]);
    }
    const byAlert = new Map<string, StoredDelivery[]>();
    for (const d of deliveries) {
      const delivery: StoredDelivery = {
        id: d.delivery_id,
        channel: d.channel as DeliveryChannel,
        target: d.target,
        status: d.status as DeliveryStatus,
        attempts: Number(d.attempts),
        lastError: d.last_error,
        nextAttemptAt: d.status === 'pending' ? Number(d.next_attempt_at) : null,
        log: log.get(d.delivery_id) ?? [],
      };
      const list = byAlert.get(d.alert_id);
      if (list) list.push(delivery);
      else byAlert.set(d.alert_id, [delivery]);
    }
    return alerts.map((a) => ({ ...alertFromRow(a), deliveries: byAlert.get(a.alert_id) ?? [] }));
  }

  async claimDeliveries(now: number, leaseMs: number, limit: number): Promise<ClaimedDelivery[]> {
    const token = randomUUID();
    const claimed = await this.db
      .updateTable('deliveries')
      .set({ claim_token: token, claimed_until: now + leaseMs })
      .where((eb) =>
        eb(
          eb.refTuple('org_id', 'delivery_id'),
          'in',
          eb
            .selectFrom('deliveries')
            .where('status', '=', 'pending')
            .where('next_attempt_at', '<=', now)
            .where((w) => w.or([w('claimed_until', 'is', null), w('claimed_until', '<=', now)]))
            .orderBy('next_attempt_at')
            .limit(limit)
            .$if(this.rowLocks, (q) => q.forUpdate().skipLocked())
            .select(['org_id', 'delivery_id'])
            .$asTuple('org_id', 'delivery_id'),
        ),
      )
      .returningAll()
      .execute();
    if (claimed.length === 0) return [];
    const alerts = await this.db
      .selectFrom('alerts')
      .selectAll()
      .where((eb) =>
        eb(
          eb.refTuple('org_id', 'alert_id'),
          'in',
          claimed.map((d) => eb.tuple(d.org_id, d.alert_id)),
        ),
      )
      .execute();
    const alertOf = new Map(alerts.map((a) => [`${a.org_id}\u0000${a.alert_id}`, alertFromRow(a)]));
    return claimed.map((d) => ({
      orgId: d.org_id,
      id: d.delivery_id,
      channel: d.channel as DeliveryChannel,
      target: d.target,
      attempts: Number(d.attempts),
      claimToken: token,
      alert: alertOf.get(`${d.org_id}\u0000${d.alert_id}`) as StoredAlert,
    }));
  }

  async finishDelivery(claim: ClaimedDelivery, outcome: DeliveryOutcome): Promise<boolean> {
    const status: DeliveryStatus = outcome.ok ? 'sent' : outcome.retryAt === null ? 'failed' : 'pending';
    return this.db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable('deliveries')
        .set((eb) => ({
          status,
          attempts: eb('attempts', '+', 1),
          last_error: outcome.error,
          next_attempt_at: outcome.retryAt ?? outcome.at,
          claim_token: null,
          claimed_until: null,
        }))
        .where('org_id', '=', claim.orgId)
        .where('delivery_id', '=', claim.id)
        .where('claim_token', '=', claim.claimToken)
        .returning('attempts')
        .executeTakeFirst();
      if (!updated) return false;
      await trx
        .insertInto('delivery_attempts')
        .values({
          org_id: claim.orgId,
          delivery_id: claim.id,
          attempt: Number(updated.attempts),
          at: outcome.at,
          ok: outcome.ok ? 1 : 0,
          error: outcome.error,
        })
        .execute();
      return true;
    });
  }

  async saveApiKey(orgId: string, key: StoredApiKey, now: number): Promise<void> {
    await this.db
      .insertInto('api_keys')
      .values({
        org_id: orgId,
        key_id: key.keyId,
        secret_hash: key.secretHash,
        scopes: JSON.stringify(key.scopes),
        created_at: now,
      })
      .execute();
  }

  async getApiKey(orgId: string, keyId: string): Promise<StoredApiKey | undefined> {
    const row = await this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('key_id', '=', keyId)
      .executeTakeFirst();
    return row ? storedApiKey(row) : undefined;
  }

  async monthFacts(orgId: string, month: string) {
    const row = await this.db
      .selectFrom('orgs as o')
      .leftJoin('statements as s', (j) => j.onRef('s.org_id', '=', 'o.org_id').on('s.month', '=', month))
      .select((eb) => [
        'o.active_invited',
        's.closed_at',
        's.body',
        eb
          .selectFrom('late_events')
          .select('events')
          .where('org_id', '=', orgId)
          .where('month', '=', month)
          .as('late'),
      ])
      .where('o.org_id', '=', orgId)
      .executeTakeFirst();
    const statement =
      row?.body === null || row?.body === undefined
        ? undefined
        : { month, closedAt: Number(row.closed_at), body: JSON.parse(row.body) as unknown };
    return {
      activeAndInvited: Number(row?.active_invited ?? 0),
      lateEvents: Number(row?.late ?? 0),
      statement,
    };
  }

  async getStatement(orgId: string, month: string): Promise<StoredStatement | undefined> {
    const row = await this.db
      .selectFrom('statements')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('month', '=', month)
      .executeTakeFirst();
    return row
      ? { month: row.month, closedAt: Number(row.closed_at), body: JSON.parse(row.body) }
      : undefined;
  }
}

async function closedMonthsOf(db: Db, orgId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('statements')
    .select('month')
    .where('org_id', '=', orgId)
    .orderBy('month')
    .execute();
  return rows.map((r) => r.month);
}

export function storedApiKey(row: { key_id: string; secret_hash: string; scopes: string }): StoredApiKey {
  return { keyId: row.key_id, secretHash: row.secret_hash, scopes: JSON.parse(row.scopes) as string[] };
}

/** What a group of batches reads of its org first. */
export interface BatchFacts {
  readonly timezone: string;
  /** The closed months: events on their days are stored as late. */
  readonly closed: ReadonlySet<string>;
  /** Whether the org has any alias. */
  readonly hasAliases: boolean;
}

/**
 * Sets of ids per org, `limit` ids at most in all: past it they start over empty (a cache of
 * facts that never stop being true).
 */
class KnownIds {
  private readonly byOrg = new Map<string, Set<string>>();
  private size = 0;

  constructor(private readonly limit: number) {}

  has(orgId: string, id: string): boolean {
    return this.byOrg.get(orgId)?.has(id) === true;
  }

  add(orgId: string, id: string): void {
    if (this.size >= this.limit) {
      this.byOrg.clear();
      this.size = 0;
    }
    let ids = this.byOrg.get(orgId);
    if (ids === undefined) {
      ids = new Set();
      this.byOrg.set(orgId, ids);
    }
    if (!ids.has(id)) {
      ids.add(id);
      this.size++;
    }
  }
}

/** A (source, member) pair of a batch; `memberId` is filled in by `resolveMembers`. */
interface SourcePair {
  readonly source: string;
  /** The event's member: a member id or an alias of the source; absent: the source's shared member. */
  readonly member: string | undefined;
  memberId: string;
  /** When a member the pair names is created: the `now` of the batch of its first counted event. */
  createdAt: number;
}

const ownerKey = (p: SourcePair): string =>
  p.member === undefined ? `\u0001${p.source}` : `${p.source}\u0000${p.member}`;

/** Numbers the distinct (source, member) pairs of a batch, with no string built per event. */
class SourcePairs {
  readonly list: SourcePair[] = [];
  private readonly bySource = new Map<string, Map<string | undefined, number>>();

  /** The pair's number; a new pair names its member from `createdAt` on. */
  number(source: string, member: string | undefined, createdAt: number): number {
    let members = this.bySource.get(source);
    if (members === undefined) {
      members = new Map();
      this.bySource.set(source, members);
    }
    let n = members.get(member);
    if (n === undefined) {
      n = this.list.length;
      members.set(member, n);
      this.list.push({ source, member, memberId: '', createdAt });
    }
    return n;
  }
}

/**
 * Adds numbers to a per-day count (`day_seats`, the activity seats; `status_day_deltas`, the
 * changes of the status count), zeros skipped, in day order.
 */
async function addPerDay(
  trx: Db,
  table: 'day_seats' | 'status_day_deltas',
  orgId: string,
  perDay: ReadonlyMap<number, number>,
): Promise<void> {
  const column = sql.ref(table === 'day_seats' ? 'seats' : 'delta');
  const rows = [...perDay].filter(([, n]) => n !== 0).sort((a, b) => a[0] - b[0]);
  for (const part of chunks(rows)) {
    await sql`insert into ${sql.table(table)} ("org_id", "day", ${column})
      values ${sql.join(part.map(([day, n]) => sql`(${orgId}, ${day}, ${n})`))}
      on conflict ("org_id", "day") do update set ${column} = ${sql.table(table)}.${column} + excluded.${column}`.execute(
      trx,
    );
  }
}

/** What a write reads of its org's row (under the org's lock); the org must exist. */
interface OrgValues {
  timezone: string;
  active_invited: number;
}

async function orgValue<C extends keyof OrgValues>(trx: Db, orgId: string, column: C): Promise<OrgValues[C]> {
  const row = await trx
    .selectFrom('orgs')
    .select(sql<OrgValues[C]>`${sql.ref(column)}`.as('value'))
    .where('org_id', '=', orgId)
    .executeTakeFirst();
  if (row === undefined) throw new NotFoundError('org', orgId);
  return row.value as OrgValues[C];
}

/** A member's status changes, sorted by `at` and then by recording order (`seq`). */
async function historyOf(
  trx: Db,
  orgId: string,
  memberId: string,
): Promise<Array<StatusChange & { seq: number }>> {
  const rows = await trx
    .selectFrom('status_changes')
    .select(['status', 'at', 'seq'])
    .where('org_id', '=', orgId)
    .where('member_id', '=', memberId)
    .orderBy('at')
    .orderBy('seq')
    .execute();
  return rows.map((c) => ({ status: c.status as MemberStatus, at: Number(c.at), seq: Number(c.seq) }));
}

/** Moves the org's count of active and invited members as a member's status goes from `was` to `is`. */
async function countActiveInvited(
  trx: Db,
  orgId: string,
  was: string | null,
  is: string | null,
): Promise<void> {
  const counted = (status: string | null) => status === 'active' || status === 'invited';
  if (counted(was) !== counted(is)) await adjustActiveInvited(trx, orgId, counted(is) ? 1 : -1);
}

/** Moves the org's count of active and invited members. */
async function adjustActiveInvited(trx: Db, orgId: string, delta: number): Promise<void> {
  await trx
    .updateTable('orgs')
    .set({ active_invited: sql`active_invited + ${delta}` })
    .where('org_id', '=', orgId)
    .execute();
}

async function ensureNamed(trx: Db, table: 'projects' | 'teams', orgId: string, ids: readonly string[]) {
  for (const part of chunks(ids)) {
    if (table === 'projects') {
      await trx
        .insertInto('projects')
        .values(part.map((id) => ({ org_id: orgId, project_id: id, name: id })))
        .onConflict((oc) => oc.doNothing())
        .execute();
    } else {
      await trx
        .insertInto('teams')
        .values(part.map((id) => ({ org_id: orgId, team_id: id, name: id })))
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
  }
}

/** Replaces a member's projects or teams, creating any that do not exist yet (named after their id). */
async function replaceLinks(
  trx: Db,
  table: 'projects' | 'teams',
  orgId: string,
  memberId: string,
  ids: readonly string[],
) {
  await ensureNamed(trx, table, orgId, ids);
  if (table === 'projects') {
    await trx
      .deleteFrom('member_projects')
      .where('org_id', '=', orgId)
      .where('member_id', '=', memberId)
      .execute();
    if (ids.length > 0) {
      await trx
        .insertInto('member_projects')
        .values([...new Set(ids)].map((id) => ({ org_id: orgId, member_id: memberId, project_id: id })))
        .execute();
    }
  } else {
    await trx
      .deleteFrom('member_teams')
      .where('org_id', '=', orgId)
      .where('member_id', '=', memberId)
      .execute();
    if (ids.length > 0) {
      await trx
        .insertInto('member_teams')
        .values([...new Set(ids)].map((id) => ({ org_id: orgId, member_id: memberId, team_id: id })))
        .execute();
    }
  }
}

async function readMember(db: Db, orgId: string, memberId: string): Promise<Member | undefined> {
  const row: MembersTable | undefined = await db
    .selectFrom('members')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('member_id', '=', memberId)
    .executeTakeFirst();
  if (!row) return undefined;
  const [projects, teams, aliases] = await Promise.all([
    db
      .selectFrom('member_projects')
      .select('project_id')
      .where('org_id', '=', orgId)
      .where('member_id', '=', memberId)
      .orderBy('project_id')
      .execute(),
    db
      .selectFrom('member_teams')
      .select('team_id')
      .where('org_id', '=', orgId)
      .where('member_id', '=', memberId)
      .orderBy('team_id')
      .execute(),
    db
      .selectFrom('aliases')
      .select(['source', 'external_id'])
      .where('org_id', '=', orgId)
      .where('member_id', '=', memberId)
      .orderBy('source')
      .orderBy('external_id')
      .execute(),
  ]);
  return memberFromRow(
    row,
    projects.map((p) => p.project_id),
    teams.map((t) => t.team_id),
    aliases.map((a) => ({ source: a.source, externalId: a.external_id })),
  );
}

function memberFromRow(
  row: MembersTable,
  projects: string[],
  teams: string[],
  aliases: Array<{ source: string; externalId: string }>,
): Member {
  return {
    id: row.member_id,
    email: row.email,
    name: row.name,
    kind: row.kind as MemberKind,
    status: row.status as MemberStatus | null,
    projects,
    teams,
    aliases,
    createdAt: Number(row.created_at),
  };
}
