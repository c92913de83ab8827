import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ForbiddenError } from '../../core/errors.js';
import type { ApiContext } from '../context.js';
import { checkDashboardToken, signDashboardToken } from '../dashboard-links.js';
import { created, linkAnswer } from '../responses.js';
import { orgParams } from '../schemas.js';

const linkBody = z
  .object({ ttlSeconds: z.number().int().min(30).max(86_400).default(900) })
  .default({ ttlSeconds: 900 });
const pageQuery = z.object({ token: z.string().min(1).max(1000).optional() });

/**
 * The built front end: `<repo>/dist/web`, the same path from `src/api/routes` (tests, tsx) and
 * from `dist/api/routes` (the installed build).
 */
const WEB_ROOT = fileURLToPath(new URL('../../../dist/web/', import.meta.url));

/** Dashboard links (SPEC.md section 8) and the page they open. */
export const dashboardRoutes =
  (ctx: ApiContext, linkSecret: string | undefined, publicUrl?: string): FastifyPluginAsyncZod =>
  async (app) => {
    const secret = () => {
      if (!linkSecret)
        throw new ForbiddenError('dashboard links need SEATMETER_ADMIN_KEY or SEATMETER_LINK_SECRET');
      return linkSecret;
    };

    app.post(
      '/v1/orgs/:org/dashboard-links',
      { schema: { params: orgParams, body: linkBody.nullish(), response: created(linkAnswer) } },
      async (request, reply) => {
        const { org } = await ctx.orgFor(request, request.params.org, 'admin');
        const expiresAt = ctx.now() + (request.body?.ttlSeconds ?? 900) * 1000;
        const token = signDashboardToken(secret(), org.id, expiresAt);
        const base = publicUrl?.replace(/\/+$/, '') ?? `${request.protocol}://${request.host}`;
        const url = `${base}/dashboard/orgs/${encodeURIComponent(org.id)}?token=${token}`;
        return reply
          .code(201)
          .send({ url, expiresAt: new Date(Math.floor(expiresAt / 1000) * 1000).toISOString() });
      },
    );

    // The page itself: the built front end (`npm run build` puts it in dist/web). A link's token
    // is checked here too, so an expired or foreign link is refused before anything loads.
    await app.register(fastifyStatic, {
      root: join(WEB_ROOT, 'assets'),
      prefix: '/dashboard/assets/',
      decorateReply: false,
      index: false,
      // File names carry a content hash: a new build gets new names.
      immutable: true,
      maxAge: '1y',
    });

    /** A short page of plain text, for the answers that are not the dashboard. */
    const notice = (reply: FastifyReply, code: number, text: string) =>
      reply
        .code(code)
        .type('text/html; charset=utf-8')
        .send(`<!doctype html><title>seatmeter</title><link rel="icon" href="data:,"><p>${text}</p>`);

    // Read once: the build does not change under a running server.
    let html: string | undefined;
    const page = async (reply: FastifyReply) => {
      html ??= await readFile(join(WEB_ROOT, 'index.html'), 'utf8').catch(() => undefined);
      if (html === undefined) return notice(reply, 503, 'The dashboard is not built: run npm run build.');
      return reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('referrer-policy', 'no-referrer')
        .header('x-frame-options', 'DENY')
        .header(
          'content-security-policy',
          "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; frame-ancestors 'none'",
        )
        .send(html);
    };

    app.get('/dashboard', { schema: { hide: true } }, async (_request, reply) =>
      reply.redirect('/dashboard/'),
    );
    app.get('/dashboard/', { schema: { hide: true } }, async (_request, reply) => page(reply));

    app.get(
      '/dashboard/orgs/:org',
      { schema: { params: orgParams, querystring: pageQuery, hide: true } },
      async (request, reply) => {
        const token = request.query.token;
        if (token !== undefined) {
          const check = checkDashboardToken(secret(), token, request.params.org, ctx.now());
          if (!check.ok) {
            return notice(
              reply,
              403,
              check.reason === 'expired' ? 'This link has expired.' : 'This link is not valid for this page.',
            );
          }
        }
        return page(reply);
      },
    );
  };
