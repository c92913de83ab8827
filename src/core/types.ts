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
