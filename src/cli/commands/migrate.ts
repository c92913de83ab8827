import { Command } from 'commander';
import { openStore } from '../../store/open-store.js';
import { dbOption } from '../db-option.js';

/** `seatmeter migrate`: applies every pending migration to the database. */
export const migrateCommand = (): Command =>
  new Command('migrate')
    .description('create or upgrade the database schema')
    .addOption(dbOption())
    .action(async (opts: { db: string }) => {
      const store = openStore(opts.db);
      try {
        await store.migrate();
        console.log(`migrated ${opts.db}`);
      } finally {
        await store.close();
      }
    });
