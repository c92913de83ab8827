import { Command } from 'commander';
import { monthOfInstant } from '../../core/calendar.js';
import { NotFoundError } from '../../core/errors.js';
import { openStore } from '../../store/open-store.js';
import { getUsage, type Usage } from '../../usage/usage-service.js';
import { dbOption } from '../db-option.js';

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
    .option('--month <YYYY-MM>', 'the month (default: the month in progress)')
    .option('--json', 'print the usage shape of the API')
    .addOption(dbOption())
    .action(async (opts: { org: string; month?: string; json?: boolean; db: string }) => {
      if (opts.month !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(opts.month)) {
        throw new Error(`--month: not a month (YYYY-MM): ${opts.month}`);
      }
      const store = openStore(opts.db);
      try {
        await store.migrate();
        const org = await store.getOrg(opts.org);
        if (!org) throw new NotFoundError('org', opts.org);
        const now = Date.now();
        const usage = await getUsage(store, org, opts.month ?? monthOfInstant(now, org.timezone), now);
        console.log(opts.json ? JSON.stringify(usage, null, 2) : usageTable(usage));
      } finally {
        await store.close();
      }
    });
