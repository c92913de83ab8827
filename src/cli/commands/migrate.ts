import { Command } from 'commander';
import { redactedUrl } from '../../store/open-store.js';
import { dbOption } from '../db-option.js';
import { withStore } from '../with-store.js';

/** `seatmeter migrate`: applies every pending migration to the database. */
export const migrateCommand = (): Command =>
  new Command('migrate')
    .description('create or upgrade the database schema')
    .addOption(dbOption())
    .action(async (opts: { db: string }) => {
      await withStore(opts.db, async () => {});
      console.log(`migrated ${redactedUrl(opts.db)}`);
    });
