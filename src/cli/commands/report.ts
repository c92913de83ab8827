import { Command } from 'commander';
import { monthOfInstant } from '../../core/calendar.js';
import { figure, money } from '../../core/display.js';
import { closeDueMonthsOf } from '../../usage/statements.js';
import { getUsage, type Usage } from '../../usage/usage-service.js';
import { dbOption } from '../db-option.js';
import { monthOption, withOrg } from '../with-store.js';

/** The usage as a table a person reads in a terminal. */
export function usageTable(u: Usage): string {
  const c = u.charge;
  const plan =
    c.tierUpTo !== null || c.licenses === null
      ? `tier up to ${c.tierUpTo ?? 'unlimited'}`
      : `${c.licenses} licences`;
  const lines = [
    `${u.org} ${u.month} (${u.timezone}, ${u.counting.presence} / ${u.counting.aggregation})${u.closed ? ' closed' : ''}`,
    '',
    ...u.days.map((d) => `  ${d.date}  ${String(d.count).padStart(6)}`),
    '',
    `  current      ${u.current ?? '-'}`,
    `  to date      ${figure(u.toDate)}${u.toDate.denominator === 1 ? '' : ` (${u.toDate.numerator}/${u.toDate.denominator})`}`,
    `  projected    ${figure(u.projected)}`,
    `  billable     ${figure(u.billable)}`,
    `  allowance    ${u.allowance ?? 'unlimited'}`,
    `  state        ${u.state}`,
    `  charge       ${money(c.amount, c.currency)} (${plan}${c.overage ? `, overage ${c.overage}` : ''})`,
    `  late events  ${u.lateEvents}`,
  ];
  return lines.join('\n');
}

/** `seatmeter report --org ORG --month YYYY-MM [--json]`: the usage of a month. */
export const reportCommand = (): Command =>
  new Command('report')
    .description("a month's usage: daily counts, billable licences, state and charge")
    .requiredOption('--org <org>', 'org id')
    .option('--month <YYYY-MM>', 'the month (default: the month in progress)', monthOption)
    .option('--json', 'print the usage shape of the API')
    .addOption(dbOption())
    .action(async (opts: { org: string; month?: string; json?: boolean; db: string }) => {
      const usage = await withOrg(opts.db, opts.org, async (store, org) => {
        const now = Date.now();
        // The months due for automatic closing are closed first, as a running server does on its
        // timer: the report of a month past its closing day is its statement, whoever asks.
        await closeDueMonthsOf(store, org, now);
        return getUsage(store, org, opts.month ?? monthOfInstant(now, org.timezone), now);
      });
      console.log(opts.json ? JSON.stringify(usage, null, 2) : usageTable(usage));
    });
