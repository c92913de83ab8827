import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiContext } from '../context.js';
import { answers, memberAnswer, namedAnswer } from '../responses.js';
import { memberBody, memberParams, nameBody, projectParams, statusBody, teamParams } from '../schemas.js';

/** Projects, teams, members and status history. */
export const memberRoutes =
  (ctx: ApiContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.put(
      '/v1/orgs/:org/projects/:project',
      // No body creates it under its id, as `{}` does.
      { schema: { params: projectParams, body: nameBody.nullish(), response: answers(namedAnswer) } },
      async (request) => {
        const { org, project } = request.params;
        await ctx.orgFor(request, org, 'admin');
        const name = request.body?.name ?? project;
        await ctx.store.putProject(org, project, name);
        return { id: project, name };
      },
    );

    app.put(
      '/v1/orgs/:org/teams/:team',
      { schema: { params: teamParams, body: nameBody.nullish(), response: answers(namedAnswer) } },
      async (request) => {
        const { org, team } = request.params;
        await ctx.orgFor(request, org, 'admin');
        const name = request.body?.name ?? team;
        await ctx.store.putTeam(org, team, name);
        return { id: team, name };
      },
    );

    app.put(
      '/v1/orgs/:org/members/:member',
      { schema: { params: memberParams, body: memberBody.nullish(), response: answers(memberAnswer) } },
      async (request) => {
        const { org, member } = request.params;
        const found = await ctx.orgFor(request, org, 'admin');
        const { status, ...fields } = request.body ?? {};
        const now = ctx.now();
        let saved = await ctx.store.putMember(org, { id: member, ...definedOnly(fields) }, now);
        if (status !== undefined && status !== saved.status) {
          saved = await ctx.store.appendStatus(org, member, status, now, now);
          await ctx.changed(found.org);
        }
        return memberView(saved);
      },
    );

    app.post(
      '/v1/orgs/:org/members/:member/status',
      { schema: { params: memberParams, body: statusBody, response: answers(memberAnswer) } },
      async (request) => {
        const { org, member } = request.params;
        const found = await ctx.orgFor(request, org, 'admin');
        const now = ctx.now();
        const at = request.body.at === undefined ? now : Date.parse(request.body.at);
        const saved = await ctx.store.appendStatus(org, member, request.body.status, at, now);
        await ctx.changed(found.org);
        return memberView(saved);
      },
    );
  };

/** Drops keys whose value is undefined, for exact optional property types. */
function definedOnly<T extends object>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as never;
}

export function memberView(m: import('../../core/types.js').Member) {
  return { ...m, createdAt: new Date(m.createdAt).toISOString() };
}
