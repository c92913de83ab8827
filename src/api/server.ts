import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { jsonSchemaTransform, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { type ZodType, z } from 'zod';
import { evaluateAlerts } from '../alerts/alerts-service.js';
import { NotFoundError, SeatmeterError } from '../core/errors.js';
import { OffThreadParser } from '../ingest/off-thread-parser.js';
import type { Store } from '../store/store.js';
import { authenticate, authorize, type Caller, StoredKeys } from './auth.js';
import type { ApiContext } from './context.js';
import { errorHandler } from './errors.js';
import { jsonBodyReader } from './json-body.js';
import { DatabaseRateLimitStore } from './rate-limit-store.js';
import { alertRoutes } from './routes/alerts.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { eventRoutes } from './routes/events.js';
import { inviteRoutes } from './routes/invites.js';
import { memberRoutes } from './routes/members.js';
import { orgRoutes } from './routes/orgs.js';
import { statementRoutes } from './routes/statements.js';
import { usageRoutes } from './routes/usage.js';

export interface ServerOptions {
  readonly store: Store;
  /** The operator key (env `SEATMETER_ADMIN_KEY`). */
  readonly adminKey?: string | undefined;
  /** The clock; defaults to the system clock. */
  readonly now?: () => number;
  /** Request bodies above this many bytes answer 413. */
  readonly bodyLimit?: number;
  /**
   * Ingest bodies of at least this many bytes are parsed and validated on a worker thread
   * (`OffThreadParser`; default 32 KiB, about 300 events); `Infinity`: never.
   */
  readonly offThreadParseBytes?: number;
  /** The worker that reads them; by default the server starts its own and stops it on close. */
  readonly offThreadParser?: OffThreadParser;
  /** Allow webhook URLs on loopback or private networks (env `SEATMETER_ALLOW_PRIVATE_WEBHOOKS=1`). */
  readonly allowPrivateWebhooks?: boolean;
  /** Signs dashboard links; defaults to the operator key. Every instance needs the same one. */
  readonly linkSecret?: string | undefined;
  /** Requests per second one API key may make before 429 (default 5,000). */
  readonly rateLimitPerSecond?: number;
  /** Told when a change raised alerts, so their deliveries go out at once (the outbox's `kick`). */
  readonly onAlertsRaised?: () => void;
  /** Told about errors that do not fail the request (an alert evaluation after a stored change). */
  readonly onError?: (error: unknown) => void;
  /**
   * Check every answer against its route's documented schema and fail the request (500) when it
   * does not match: on in the API tests, so `/v1/openapi.json` says what is served.
   */
  readonly checkAnswers?: boolean;
  /**
   * The address users reach the server at (env `SEATMETER_PUBLIC_URL`, e.g.
   * `https://billing.example.com`): dashboard links start with it. Without it, a link starts with
   * the request's own protocol and host.
   */
  readonly publicUrl?: string | undefined;
  /**
   * Behind a reverse proxy (env `SEATMETER_TRUST_PROXY=1`): the request's protocol, host and client
   * address come from its `X-Forwarded-*` headers.
   */
  readonly trustProxy?: boolean;
}

/** The OpenAPI document's route: open to all. */
const OPENAPI = '/v1/openapi.json';

/** The largest request body read (SPEC.md section 6: 16 MiB). */
export const BODY_LIMIT = 16 * 1024 * 1024;
/** The default of `ServerOptions.offThreadParseBytes`. */
export const OFF_THREAD_PARSE_BYTES = 32 * 1024;

/**
 * The HTTP server over a migrated store. Stateless: everything that decides counts lives in the
 * database, so any number of instances can serve one PostgreSQL.
 */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? BODY_LIMIT,
    logger: false,
    trustProxy: options.trustProxy ?? false,
  });
  app.setValidatorCompiler(validatorCompiler);
  // Answers are written as they are; their schemas document them (and, in tests, check them).
  app.setSerializerCompiler(({ schema, url, httpStatus }) => {
    const check = options.checkAnswers ? (schema as ZodType) : undefined;
    return (data) => {
      const checked = check?.safeParse(data);
      if (checked && !checked.success) {
        throw new Error(`${url} answered ${httpStatus} off its schema: ${z.prettifyError(checked.error)}`);
      }
      return JSON.stringify(data);
    };
  });
  app.setErrorHandler(errorHandler(options.onError ?? console.error));
  const readJson = jsonBodyReader(app);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) =>
    readJson(request, body as string, done),
  );
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: { code: 'not_found', message: `no route ${request.method} ${request.url}`, details: [] },
    }),
  );
  // Per key (the bearer token, else the client address): a guard against runaway clients. Several
  // instances on one PostgreSQL share each key's budget through the database; a lone SQLite
  // process keeps it in memory. A database hiccup lets requests through rather than failing them.
  const shared = options.store;
  class SharedRateLimitStore extends DatabaseRateLimitStore {
    constructor(params: { timeWindow: number }) {
      super(shared, params.timeWindow);
    }
  }
  await app.register(rateLimit, {
    max: options.rateLimitPerSecond ?? 5_000,
    timeWindow: 1_000,
    ...(shared.shared
      ? {
          store: SharedRateLimitStore as never,
          skipOnError: true,
        }
      : {}),
    keyGenerator: (request) => request.headers.authorization ?? request.ip,
    errorResponseBuilder: (_request, context) =>
      new SeatmeterError('rate_limited', 'rate_limited', `too many requests: retry after ${context.after}`),
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'seatmeter', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });

  const now = options.now ?? Date.now;
  const findOrg = async (orgId: string) => {
    const org = await options.store.getOrg(orgId);
    if (!org) throw new NotFoundError('org', orgId);
    return org;
  };
  // Each request's caller, authenticated once, before its body is read or validated: a request
  // without a valid key answers 401, and an org key asking for another org's resources 404, whatever
  // else is wrong with it.
  const callers = new WeakMap<FastifyRequest, Caller>();
  const keys = new StoredKeys(options.store);
  const callerOf = async (request: FastifyRequest): Promise<Caller> => {
    let caller = callers.get(request);
    if (caller === undefined) {
      caller = await authenticate(request, {
        adminKey: options.adminKey,
        keys,
        linkSecret: options.linkSecret ?? options.adminKey,
        now,
      });
      callers.set(request, caller);
    }
    return caller;
  };
  const checkCaller = async (request: FastifyRequest) => {
    const route = request.routeOptions.url;
    if (route === undefined || !route.startsWith('/v1/') || route === OPENAPI) return;
    const caller = await callerOf(request);
    const orgId = (request.params as { org?: unknown }).org;
    if (caller.kind === 'org' && typeof orgId === 'string' && orgId !== caller.orgId) {
      throw new NotFoundError('org', orgId);
    }
  };
  // After the rate limit's own request hook (a flood of bad keys is limited like any other), before
  // the body is read.
  app.addHook('preParsing', async (request, _reply, payload) => {
    await checkCaller(request);
    return payload;
  });
  // A query parameter given empty (`?month=&team=`, as a form or a URL template sends it) is one
  // not given.
  app.addHook('preValidation', async (request) => {
    const query = request.query as Record<string, unknown> | undefined;
    if (query === undefined || query === null) return;
    for (const [name, value] of Object.entries(query)) if (value === '') delete query[name];
  });
  const access: ApiContext['access'] = async (request, orgId, scope) => {
    const caller = await callerOf(request);
    authorize(caller, orgId, scope);
    return caller;
  };
  const offThreadBytes = options.offThreadParseBytes ?? OFF_THREAD_PARSE_BYTES;
  const ownParser = options.offThreadParser === undefined && Number.isFinite(offThreadBytes);
  const batchParser = ownParser
    ? new OffThreadParser({ onError: options.onError ?? console.error })
    : options.offThreadParser;
  if (ownParser) app.addHook('onClose', async () => batchParser?.close());
  const ctx: ApiContext = {
    store: options.store,
    now,
    offThread: batchParser && { parser: batchParser, minBytes: offThreadBytes },
    access,
    changed: async (org) => {
      // The change is stored and answered either way; the next change evaluates again.
      try {
        const raised = await evaluateAlerts(options.store, org, now());
        if (raised.length > 0) options.onAlertsRaised?.();
      } catch (error) {
        (options.onError ?? console.error)(error);
      }
    },
    allowPrivateWebhooks: options.allowPrivateWebhooks ?? false,
    findOrg,
    orgFor: async (request, orgId, scope) => {
      const caller = await access(request, orgId, scope);
      return { caller, org: await findOrg(orgId) };
    },
  };
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get('/healthz', async (_request, reply) => {
    const ok = await options.store.ping();
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'database unreachable' });
  });
  for (const routes of [
    orgRoutes,
    memberRoutes,
    eventRoutes,
    usageRoutes,
    inviteRoutes,
    statementRoutes,
    alertRoutes,
  ])
    await api.register(routes(ctx));
  await api.register(dashboardRoutes(ctx, options.linkSecret ?? options.adminKey, options.publicUrl));
  api.get(OPENAPI, { schema: { hide: true } }, async () => app.swagger());
  return app;
}
