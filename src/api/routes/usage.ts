import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { monthOfInstant } from '../../core/calendar.js';
import {
  type MemberUsage,
  membersUsage,
  memberUsagePages,
  projectsUsage,
} from '../../usage/usage-service.js';
import type { ApiContext } from '../context.js';
import { answers, membersAnswer, projectsAnswer } from '../responses.js';
import { membersQuery, monthQuery, orgParams } from '../schemas.js';

const CSV_COLUMNS = [
  'id',
  'email',
  'name',
  'kind',
  'status',
  'billable',
  'reason',
  'daysCounted',
  'firstDay',
  'lastDay',
  'projects',
  'teams',
  'sources',
] as const;

/**
 * A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return first) is
 * made inert with a leading apostrophe.
 */
export function inertCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function csvRow(m: MemberUsage): string[] {
  const sources = Object.entries(m.sources)
    .map(([s, n]) => `${s}:${n}`)
    .join(';');
  return [
    m.id,
    m.email ?? '',
    m.name ?? '',
    m.kind,
    m.status ?? '',
    String(m.billable),
    m.reason,
    String(m.daysCounted),
    m.firstDay ?? '',
    m.lastDay ?? '',
    m.projects.join(';'),
    m.teams.join(';'),
    sources,
  ].map(inertCell);
}

export const usageRoutes =
  (ctx: ApiContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/orgs/:org/usage/members',
      { schema: { params: orgParams, querystring: membersQuery, response: answers(membersAnswer) } },
      async (request, reply) => {
        const { org } = await ctx.orgFor(request, request.params.org, 'read');
        const q = request.query;
        const month = q.month ?? monthOfInstant(ctx.now(), org.timezone);
        const filter = {
          team: q.team,
          project: q.project,
          source: q.source,
          all: q.all === 'true' || q.all === '1',
        };
        const wantsCsv =
          q.format === 'csv' || (q.format === undefined && request.headers.accept?.includes('text/csv'));
        if (wantsCsv) {
          // Read a page of members at a time: memory stays flat however many members there are.
          const pages = memberUsagePages(ctx.store, org, month, ctx.now(), filter);
          const rows = Readable.from(
            (async function* () {
              for await (const page of pages) for (const m of page) yield csvRow(m);
            })(),
          );
          reply
            .type('text/csv; charset=utf-8')
            .header('content-disposition', `attachment; filename="${org.id}-${month}-members.csv"`);
          const csv = stringify({ header: true, columns: [...CSV_COLUMNS] });
          // A failed read ends the response instead of leaving it open.
          rows.on('error', (error) => csv.destroy(error));
          return reply.send(rows.pipe(csv));
        }
        return membersUsage(ctx.store, org, month, ctx.now(), filter, {
          cursor: q.cursor,
          limit: q.limit ?? 100_000,
        });
      },
    );

    app.get(
      '/v1/orgs/:org/usage/projects',
      { schema: { params: orgParams, querystring: monthQuery, response: answers(projectsAnswer) } },
      async (request) => {
        const { org } = await ctx.orgFor(request, request.params.org, 'read');
        const now = ctx.now();
        return projectsUsage(ctx.store, org, request.query.month ?? monthOfInstant(now, org.timezone), now);
      },
    );
  };
