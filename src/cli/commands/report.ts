import { Command } from 'commander';
import { monthOfInstant } from '../../core/calendar.js';
import { getUsage, type Usage } from '../../usage/usage-service.js';
import { dbOption } from '../db-option.js';
import { monthOption, withOrg } from '../with-store.js';

const money = (minor: number, currency: string) => `${(minor / 100).toFixed(2)} ${currency}`;

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
    `  to date      ${u.toDate.value} (${u.toDate.numerator}/${u.toDate.denominator})`,
    `  projected    ${u.projected.value}`,
    `  billable     ${u.billable.value}`,
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
      const usage = await withOrg(opts.db, opts.org, (store, org) => {
        const now = Date.now();
        return getUsage(store, org, opts.month ?? monthOfInstant(now, org.timezone), now);
      });
      console.log(opts.json ? JSON.stringify(usage, null, 2) : usageTable(usage));
    });
