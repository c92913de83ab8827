import type { Migration, MigrationProvider } from 'kysely';
import { initial } from './001-initial.js';
import { apiKeys } from './002-api-keys.js';
import { activityByMember } from './003-activity-by-member.js';
import { alerts } from './004-alerts.js';
import { rateLimits } from './005-rate-limits.js';
import { daySeats } from './006-day-seats.js';
import { activeInvited } from './007-active-invited.js';
import { eventIds } from './008-event-ids.js';
import { statusDayDeltas } from './009-status-day-deltas.js';
import { daysByKey } from './010-days-by-key.js';
import { statusDue } from './011-status-due.js';
import { lateActivity } from './012-late-activity.js';
import { eventRanges } from './013-event-ranges.js';

/** Every migration, in order. Names are permanent once released: add, never rename. */
const MIGRATIONS: Record<string, Migration> = {
  '001-initial': initial,
  '002-api-keys': apiKeys,
  '003-activity-by-member': activityByMember,
  '004-alerts': alerts,
  '005-rate-limits': rateLimits,
  '006-day-seats': daySeats,
  '007-active-invited': activeInvited,
  '008-event-ids': eventIds,
  '009-status-day-deltas': statusDayDeltas,
  '010-days-by-key': daysByKey,
  '011-status-due': statusDue,
  '012-late-activity': lateActivity,
  '013-event-ranges': eventRanges,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
