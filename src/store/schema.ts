import type { Generated } from 'kysely';

/** Row types of the database, as Kysely sees them. Both backends return bigints as numbers. */
export interface OrgsTable {
  org_id: string;
  name: string;
  timezone: string;
  presence: string;
  aggregation: string;
  plan: string;
  fair_use_cap: number | null;
  auto_close_days: number;
  billing_emails: string;
  webhook_url: string | null;
  webhook_secret: string | null;
  created_at: number;
  updated_at: number;
}

export interface MembersTable {
  org_id: string;
  member_id: string;
  email: string | null;
  email_lower: string | null;
  name: string | null;
  kind: string;
  status: string | null;
  created_at: number;
  updated_at: number;
}

export interface Database {
  /** `active_invited`: members whose current status is active or invited, maintained by the store. */
  orgs: OrgsTable & { active_invited: Generated<number> };
  projects: { org_id: string; project_id: string; name: string };
  teams: { org_id: string; team_id: string; name: string };
  /** `status_due_at`: when the member's next status change comes into force, null when none is to come (migration 011). */
  members: MembersTable & { status_due_at: Generated<number | null> };
  member_projects: { org_id: string; member_id: string; project_id: string };
  member_teams: { org_id: string; member_id: string; team_id: string };
  aliases: { org_id: string; source: string; external_id: string; member_id: string };
  status_changes: {
    org_id: string;
    member_id: string;
    at: number;
    seq: number;
    status: string;
    recorded_at: number;
  };
  /** Each org's event ids, for deduplication (migration 008). */
  events: { org_id: string; event_id: string };
  /** SQLite only: ranges of each org's event ids, runs of them stored whole (migration 013). */
  event_ranges: { org_id: string; lo: string; hi: string; ids: string | null };
  /** Per local day, the change of the `status` presence count from the day before (migration 009). */
  status_day_deltas: { org_id: string; day: number; delta: number };
  activity_days: { org_id: string; day: number; member_id: string; source: string; events: number };
  late_events: { org_id: string; month: string; events: number };
  /** Events that arrived for a closed month, per local day, member and source (migration 012). */
  late_activity: {
    org_id: string;
    month: string;
    day: number;
    member_id: string;
    source: string;
    events: number;
  };
  statements: { org_id: string; month: string; closed_at: number; body: string };
  api_keys: { org_id: string; key_id: string; secret_hash: string; scopes: string; created_at: number };
  alerts: {
    org_id: string;
    alert_id: string;
    month: string;
    kind: string;
    figure: string;
    allowance: number | null;
    message: string;
    created_at: number;
  };
  deliveries: {
    org_id: string;
    delivery_id: string;
    alert_id: string;
    channel: string;
    target: string;
    status: string;
    attempts: number;
    last_error: string | null;
    next_attempt_at: number;
    claim_token: string | null;
    claimed_until: number | null;
    created_at: number;
  };
  member_days: { org_id: string; day: number; member_id: string };
  day_seats: { org_id: string; day: number; seats: number };
  rate_limits: { org_id: string; bucket: string; window_start: number; hits: number };
  delivery_attempts: {
    org_id: string;
    delivery_id: string;
    attempt: number;
    at: number;
    ok: number;
    error: string | null;
  };
}
