import { Command } from 'commander';
import { createDemo } from '../../demo/demo-data.js';
import { dbOption } from '../db-option.js';
import { withStore } from '../with-store.js';

/** `seatmeter demo`: creates the realistic demo orgs in an empty database. */
export const demoCommand = (): Command =>
  new Command('demo')
    .description('create the demo orgs (a call centre and an app company) for the last three months')
    .addOption(dbOption())
    .action(async (opts: { db: string }) => {
      const created = await withStore(opts.db, (store) => createDemo(store, Date.now()));
      console.log(
        created
          ? 'created the demo orgs nordic-calls and pixel-apps'
          : 'the database has orgs already: nothing done',
      );
    });
