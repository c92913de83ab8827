import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ValidationError } from '../../core/errors.js';
import { validateBatch } from '../../ingest/validate-batch.js';
import type { ApiContext } from '../context.js';
import { answers, eventsAnswer } from '../responses.js';
import { eventsBody, orgParams } from '../schemas.js';

/** `POST /v1/orgs/{org}/events`: a batch validated whole, stored atomically, durable on answer. */
export const eventRoutes =
  (ctx: ApiContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/v1/orgs/:org/events',
      { schema: { params: orgParams, body: eventsBody, response: answers(eventsAnswer) } },
      async (request) => {
        const { org } = await ctx.orgFor(request, request.params.org, 'ingest');
        const now = ctx.now();
        const batch = validateBatch(request.body.events, now);
        if (!batch.ok) throw new ValidationError(batch.issues);
        const result = await ctx.store.ingest(org, batch.events, now);
        if (result.accepted > 0) await ctx.changed(org);
        return result;
      },
    );
  };
