import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { closeMonth, getStatement } from '../../usage/statements.js';
import type { ApiContext } from '../context.js';
import { answers, statementAnswer } from '../responses.js';
import { monthParams } from '../schemas.js';

/** Closing months and reading their statements. */
export const statementRoutes =
  (ctx: ApiContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/v1/orgs/:org/months/:month/close',
      { schema: { params: monthParams, response: answers(statementAnswer) } },
      async (request) => {
        const { org } = await ctx.orgFor(request, request.params.org, 'admin');
        return closeMonth(ctx.store, org, request.params.month, ctx.now());
      },
    );

    app.get(
      '/v1/orgs/:org/statements/:month',
      { schema: { params: monthParams, response: answers(statementAnswer) } },
      async (request) => {
        const { org } = await ctx.orgFor(request, request.params.org, 'read');
        return getStatement(ctx.store, org, request.params.month);
      },
    );
  };
