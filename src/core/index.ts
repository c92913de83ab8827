export { aggregate, type MonthFigures, type MonthFiguresInput, monthFigures } from './aggregation.js';
export { type AlertFacts, alertMessage, alertsDue, type Banner, bannerFor } from './alerts.js';
export {
  DayMapper,
  dateOfEpochDay,
  dateOfInstant,
  datesOfMonth,
  dayIndexIn,
  daysInMonth,
  epochDayOfDate,
  epochDayOfInstant,
  isMonth,
  isValidTimezone,
  type MonthCalendar,
  monthCalendar,
  monthOfEpochDay,
  monthOfInstant,
  nextMonth,
  parseMonth,
  previousMonth,
  startOfEpochDay,
} from './calendar.js';
export * from './errors.js';
export { type InviteCheck, type InviteCheckInput, type InviteDecision, inviteCheck } from './invite.js';
export * from './plans.js';
export {
  type ActivityEvent,
  activeDayRuns,
  activitySeats,
  addRunDeltas,
  countsFromDeltas,
  dailyCounts,
  intervalsWithStatus,
  type SeatDays,
  type StatusHistory,
  sortHistory,
  statusAt,
  statusDeltas,
  statusSeats,
} from './presence.js';
export * from './rational.js';
export * from './types.js';
export { type DayCount, type UsageFigures, type UsageFiguresInput, usageFigures } from './usage.js';
export * from './usage-state.js';
