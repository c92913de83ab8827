import { type HookReceiver, type MailSink, startHookReceiver, startMailSink } from './mail-and-hooks.js';
import { createDatabase, type PostgresServer, startPostgres } from './postgres.js';
import { type ServeProcess, startServe } from './serve-process.js';

/**
 * `seatmeter serve` processes on one real PostgreSQL, with a real SMTP server and webhook receiver
 * for their alerts; the operator key is `admin`.
 */
export interface Cluster {
  readonly pg: PostgresServer;
  readonly mail: MailSink;
  readonly hooks: HookReceiver;
  readonly servers: ServeProcess[];
  /** Stops every server (answering their exit codes), the receivers and PostgreSQL. */
  stop(): Promise<Array<number | string | null>>;
}

export async function startCluster(instances: number, admin: string, env: Record<string, string> = {}) {
  const [pg, mail, hooks] = await Promise.all([startPostgres(), startMailSink(), startHookReceiver()]);
  const db = await createDatabase(pg.url, 'cluster');
  const all = {
    SEATMETER_ADMIN_KEY: admin,
    SEATMETER_ALLOW_PRIVATE_WEBHOOKS: '1',
    SEATMETER_SMTP_URL: mail.url,
    SEATMETER_OUTBOX_POLL_MS: '50',
    ...env,
  };
  // One at a time: the first applies the migrations, the others find them applied.
  const servers: ServeProcess[] = [];
  for (let i = 0; i < instances; i++) servers.push(await startServe(['--db', db], all));
  const cluster: Cluster = {
    pg,
    mail,
    hooks,
    servers,
    async stop() {
      const codes = await Promise.all(servers.map((s) => s.stop()));
      await Promise.all([mail.close(), hooks.close()]);
      await pg.stop();
      return codes;
    },
  };
  return cluster;
}
