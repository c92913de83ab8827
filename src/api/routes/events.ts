import type { FastifySchemaCompiler } from 'fastify';
import { type FastifyPluginAsyncZod, validatorCompiler } from 'fastify-type-provider-zod';
import type { ZodType } from 'zod';
import { ValidationError } from '../../core/errors.js';
import { type BatchResult, validateBatch } from '../../ingest/validate-batch.js';
import type { ApiContext } from '../context.js';
import { jsonBodyReader } from '../json-body.js';
import { answers, eventsAnswer } from '../responses.js';
import { eventsBody, orgParams } from '../schemas.js';

/** A body read and validated on the worker thread at `now`: its events are not checked again. */
class ReadBatch {
  constructor(
    readonly batch: BatchResult,
    readonly now: number,
  ) {}
}

/** The route's validators; a body read on the worker thread passes as it is. */
const validators: FastifySchemaCompiler<ZodType> = (route) => {
  const check = validatorCompiler(route);
  return route.httpPart === 'body'
    ? (data) => (data instanceof ReadBatch ? { value: data } : check(data))
    : check;
};

/** `POST /v1/orgs/{org}/events`: a batch validated whole, stored atomically, durable on answer. */
export const eventRoutes =
  (ctx: ApiContext): FastifyPluginAsyncZod =>
  async (app) => {
    // This route's own body parser: a large body is parsed and validated on the worker thread
    // (`OffThreadParser`), and any other, or one that is not an object with an `events` array,
    // here as every other route does (with the same errors).
    const readJson = jsonBodyReader(app);
    const offThread = ctx.offThread;
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
      const bytes = body as Buffer;
      const inline = () => readJson(request, bytes.toString('utf8'), done);
      if (offThread === undefined || bytes.length < offThread.minBytes) {
        inline();
        return;
      }
      const now = ctx.now();
      void offThread.parser
        .parse(bytes, now)
        .then((batch) => (batch === undefined ? inline() : done(null, new ReadBatch(batch, now))), inline);
    });
    app.post(
      '/v1/orgs/:org/events',
      {
        schema: { params: orgParams, body: eventsBody, response: answers(eventsAnswer) },
        // Fastify types a route's compiler by the route's whole schema; it is called per part.
        validatorCompiler: validators as never,
      },
      async (request) => {
        const { org } = await ctx.orgFor(request, request.params.org, 'ingest');
        const body: unknown = request.body;
        const read = body instanceof ReadBatch ? body : undefined;
        // Validated and stored at one instant: the one the worker checked the events against.
        const now = read?.now ?? ctx.now();
        const batch = read?.batch ?? validateBatch(request.body.events, now);
        if (!batch.ok) throw new ValidationError(batch.issues);
        const result = await ctx.store.ingest(org, batch.events, now);
        if (result.accepted > 0) await ctx.changed(org);
        return result;
      },
    );
  };
