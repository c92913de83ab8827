import { monthFigures } from './aggregation.js';
import { dateOfEpochDay, dayIndexIn, type MonthCalendar } from './calendar.js';
import { allowance as allowanceOf, type Charge, charge as chargeOf, type Plan } from './plans.js';
import type { Rational } from './rational.js';
import type { Aggregation } from './types.js';
import { type UsageState, usageState } from './usage-state.js';

export interface DayCount {
  readonly date: string;
  readonly count: number;
}

export interface UsageFiguresInput {
  readonly calendar: MonthCalendar;
  readonly aggregation: Aggregation;
  readonly plan: Plan;
  /** One count per day of the month. */
  readonly counts: readonly number[];
  /** The present instant (epoch ms); decides whether the month is in progress and which day is today. */
  readonly now: number;
  readonly activeAndInvited: number;
  readonly fairUseCap: number | null;
}

export interface UsageFigures {
  readonly days: DayCount[];
  readonly current: number | null;
  readonly toDate: Rational;
  readonly projected: Rational;
  /** What the month bills: `toDate` while it is open. */
  readonly billable: Rational;
  readonly allowance: number | null;
  readonly state: UsageState;
  readonly charge: Charge;
}

/**
 * Everything the usage view says about one open month, from its daily counts: the figures, the
 * allowance, the state and the charge.
 */
export function usageFigures(input: UsageFiguresInput): UsageFigures {
  const { calendar, counts, plan } = input;
  if (counts.length !== calendar.days) {
    throw new RangeError(`${counts.length} counts for a ${calendar.days}-day month`);
  }
  const today = dayIndexIn(calendar, input.now);
  const figures = monthFigures({
    counts,
    aggregation: input.aggregation,
    todayIndex: today < 0 ? null : today,
  });
  const allowance = allowanceOf(plan);
  return {
    days: counts.map((count, i) => ({ date: dateOfEpochDay(calendar.firstDay + i), count })),
    current: figures.current,
    toDate: figures.toDate,
    projected: figures.projected,
    billable: figures.toDate,
    allowance,
    state: usageState({
      projected: figures.projected,
      allowance,
      activeAndInvited: input.activeAndInvited,
      fairUseCap: input.fairUseCap,
    }),
    charge: chargeOf(plan, figures.toDate),
  };
}
