import { Command, Option } from 'commander';
import { buildServer } from '../../api/server.js';
import { openStore } from '../../store/open-store.js';
import { dbOption } from '../db-option.js';

/** `seatmeter serve`: applies migrations, then serves the HTTP API until SIGINT or SIGTERM. */
export const serveCommand = (): Command =>
  new Command('serve')
    .description('apply migrations and run the HTTP server')
    .addOption(dbOption())
    .addOption(new Option('--port <n>', 'TCP port').env('PORT').default('8080'))
    .addOption(new Option('--host <host>', 'address to listen on').default('127.0.0.1'))
    .action(async (opts: { db: string; port: string; host: string }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65_535)
        throw new Error(`--port: not a TCP port: ${opts.port}`);
      const store = openStore(opts.db);
      await store.migrate();
      const app = await buildServer({ store, adminKey: process.env.SEATMETER_ADMIN_KEY });
      const address = await app.listen({ port, host: opts.host });
      console.log(`seatmeter serving on ${address} (database ${opts.db})`);
      const stop = async () => {
        // Finish in-flight requests, take no new ones, then release the database.
        await app.close();
        await store.close();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
