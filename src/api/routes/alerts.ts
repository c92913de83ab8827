import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { alertsOf } from '../../alerts/alerts-service.js';
import type { ApiContext } from '../context.js';
import { alertsAnswer, answers } from '../responses.js';
import { orgParams } from '../schemas.js';

/** `GET /v1/orgs/{org}/alerts`: the alerts with their deliveries, and the banner of the month in progress. */
export const alertRoutes =
  (ctx: ApiContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/orgs/:org/alerts',
      { schema: { params: orgParams, response: answers(alertsAnswer) } },
      async (request) => {
        const { org } = await ctx.orgFor(request, request.params.org, 'read');
        return alertsOf(ctx.store, org, ctx.now());
      },
    );
  };
