import { Command } from 'commander';
import { NotFoundError } from '../../core/errors.js';
import { openStore } from '../../store/open-store.js';
import { closeMonth } from '../../usage/statements.js';
import { dbOption } from '../db-option.js';

/** `seatmeter close --org ORG --month YYYY-MM`: freezes the month's statement and prints it. */
export const closeCommand = (): Command =>
  new Command('close')
    .description('close a month that has ended and print its statement')
    .requiredOption('--org <org>', 'org id')
    .requiredOption('--month <YYYY-MM>', 'the month')
    .addOption(dbOption())
    .action(async (opts: { org: string; month: string; db: string }) => {
      if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(opts.month))
        throw new Error(`--month: not a month (YYYY-MM): ${opts.month}`);
      const store = openStore(opts.db);
      try {
        await store.migrate();
        const org = await store.getOrg(opts.org);
        if (!org) throw new NotFoundError('org', opts.org);
        console.log(JSON.stringify(await closeMonth(store, org, opts.month, Date.now()), null, 2));
      } finally {
        await store.close();
      }
    });
