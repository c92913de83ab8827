import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ForbiddenError } from '../../core/errors.js';
import type { ApiContext } from '../context.js';
import { checkDashboardToken, signDashboardToken } from '../dashboard-links.js';
import { orgParams } from '../schemas.js';

const linkBody = z
  .object({ ttlSeconds: z.number().int().min(30).max(86_400).default(900) })
  .default({ ttlSeconds: 900 });
const pageQuery = z.object({ token: z.string().min(1).max(1000) });

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

/** Dashboard links (SPEC.md section 8) and the page they open. */
export const dashboardRoutes =
  (ctx: ApiContext, linkSecret: string | undefined): FastifyPluginAsyncZod =>
  async (app) => {
    const secret = () => {
      if (!linkSecret)
        throw new ForbiddenError('dashboard links need SEATMETER_ADMIN_KEY or SEATMETER_LINK_SECRET');
      return linkSecret;
    };

    app.post(
      '/v1/orgs/:org/dashboard-links',
      { schema: { params: orgParams, body: linkBody.nullish() } },
      async (request, reply) => {
        const { org } = await ctx.orgFor(request, request.params.org, 'admin');
        const expiresAt = ctx.now() + (request.body?.ttlSeconds ?? 900) * 1000;
        const token = signDashboardToken(secret(), org.id, expiresAt);
        const url = `${request.protocol}://${request.host}/dashboard/orgs/${encodeURIComponent(org.id)}?token=${token}`;
        return reply
          .code(201)
          .send({ url, expiresAt: new Date(Math.floor(expiresAt / 1000) * 1000).toISOString() });
      },
    );

    app.get(
      '/dashboard/orgs/:org',
      { schema: { params: orgParams, querystring: pageQuery, hide: true } },
      async (request, reply) => {
        const check = checkDashboardToken(secret(), request.query.token, request.params.org, ctx.now());
        if (!check.ok) {
          const why =
            check.reason === 'expired' ? 'This link has expired.' : 'This link is not valid for this page.';
          return reply
            .code(403)
            .type('text/html; charset=utf-8')
            .send(`<!doctype html><title>seatmeter</title><p>${why}</p>`);
        }
        const org = await ctx.findOrg(request.params.org);
        return reply
          .type('text/html; charset=utf-8')
          .send(
            `<!doctype html><html lang="en"><meta charset="utf-8"><title>${escapeHtml(org.name)} · Billing</title><h1>${escapeHtml(org.name)}</h1><p>Billing and licensed seats.</p></html>`,
          );
      },
    );
  };
