import { Command } from 'commander';
import { createDemo } from '../../demo/demo-data.js';
import { dbOption } from '../db-option.js';
import { withStore } from '../with-store.js';

/** `seatmeter demo`: creates the realistic demo orgs, those whose ids are free. */
export const demoCommand = (): Command =>
  new Command('demo')
    .description('create the demo orgs (a call centre and an app company) for the last three months')
    .addOption(dbOption())
    .action(async (opts: { db: string }) => {
      const created = await withStore(opts.db, (store) => createDemo(store, Date.now()));
      console.log(
        created.length > 0
          ? `created the demo orgs ${created.join(' and ')}`
          : 'the demo orgs nordic-calls and pixel-apps exist already: nothing done',
      );
    });
