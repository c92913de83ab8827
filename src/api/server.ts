import Fastify, { type FastifyInstance } from 'fastify';
import type { Store } from '../store/store.js';

export interface ServerOptions {
  readonly store: Store;
  /** Request bodies above this many bytes answer 413. */
  readonly bodyLimit?: number;
}

/** The largest request body read (SPEC.md section 6: 16 MiB). */
export const BODY_LIMIT = 16 * 1024 * 1024;

/**
 * The HTTP server over a migrated store. Stateless: everything that decides counts lives in the
 * database, so any number of instances can serve one PostgreSQL.
 */
export function buildServer(options: ServerOptions): FastifyInstance {
  const app = Fastify({ bodyLimit: options.bodyLimit ?? BODY_LIMIT, logger: false });
  app.get('/healthz', async (_request, reply) => {
    const ok = await options.store.ping();
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'database unreachable' });
  });
  return app;
}
