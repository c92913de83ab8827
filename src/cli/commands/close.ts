import { Command } from 'commander';
import { closeMonth } from '../../usage/statements.js';
import { dbOption } from '../db-option.js';
import { monthOption, withOrg } from '../with-store.js';

/** `seatmeter close --org ORG --month YYYY-MM`: freezes the month's statement and prints it. */
export const closeCommand = (): Command =>
  new Command('close')
    .description('close a month that has ended and print its statement')
    .requiredOption('--org <org>', 'org id')
    .requiredOption('--month <YYYY-MM>', 'the month', monthOption)
    .addOption(dbOption())
    .action(async (opts: { org: string; month: string; db: string }) => {
      const statement = await withOrg(opts.db, opts.org, (store, org) =>
        closeMonth(store, org, opts.month, Date.now()),
      );
      console.log(JSON.stringify(statement, null, 2));
    });
