/** Who occupies a seat on a day: members with data (`activity`) or members with access (`status`). */
export type Presence = 'activity' | 'status';
/** How the month's daily counts become billable licences. */
export type Aggregation = 'peak' | 'average';

export const PRESENCES: readonly Presence[] = ['activity', 'status'];
export const AGGREGATIONS: readonly Aggregation[] = ['peak', 'average'];

export interface Counting {
  readonly presence: Presence;
  readonly aggregation: Aggregation;
}

export type MemberKind = 'person' | 'shared';
export const MEMBER_KINDS: readonly MemberKind[] = ['person', 'shared'];

export type MemberStatus = 'invited' | 'active' | 'revoked' | 'deactivated';
export const MEMBER_STATUSES: readonly MemberStatus[] = ['invited', 'active', 'revoked', 'deactivated'];

/** One entry of a member's status history: `status` holds from `at` (epoch ms, inclusive). */
export interface StatusChange {
  readonly status: MemberStatus;
  readonly at: number;
}

/** A customer organization and its billing settings. */
export interface Org {
  readonly id: string;
  readonly name: string;
  readonly timezone: string;
  readonly counting: Counting;
  readonly plan: import('./plans.js').Plan;
  /** Null: no cap. */
  readonly fairUseCap: number | null;
  readonly autoCloseDays: number;
  readonly billingEmails: readonly string[];
  readonly webhookUrl: string | null;
  readonly webhookSecret: string | null;
  /** Epoch ms. */
  readonly createdAt: number;
}

export interface Member {
  readonly id: string;
  readonly email: string | null;
  readonly name: string | null;
  readonly kind: MemberKind;
  /** The status after the latest change of its history; null before any. */
  readonly status: MemberStatus | null;
  readonly projects: readonly string[];
  readonly teams: readonly string[];
  readonly aliases: readonly { readonly source: string; readonly externalId: string }[];
  readonly createdAt: number;
}
