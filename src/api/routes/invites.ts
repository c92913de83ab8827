import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { DayMapper, monthOfInstant } from '../../core/calendar.js';
import { FairUseCapError } from '../../core/errors.js';
import { type InviteCheck, inviteCheck } from '../../core/invite.js';
import { allowance } from '../../core/plans.js';
import type { Org } from '../../core/types.js';
import { getUsage } from '../../usage/usage-service.js';
import type { ApiContext } from '../context.js';
import { answers, created, inviteAnswer, inviteCheckAnswer } from '../responses.js';
import { inviteBody, orgParams } from '../schemas.js';
import { memberView } from './members.js';

/**
 * Today's local day, per timezone: a mapper keeps the month it saw last, so the check asks the
 * timezone database only when the month changes. At most one per IANA zone.
 */
const today = new Map<string, DayMapper>();
function epochDayNow(now: number, zone: string): number {
  let mapper = today.get(zone);
  if (mapper === undefined) {
    mapper = new DayMapper(zone);
    today.set(zone, mapper);
  }
  return mapper.epochDayOf(now);
}

/**
 * The invite decision from today's seats and the active + invited count. Under `activity` presence
 * both are read at once (this runs on every invite screen); under `status` presence today's seats
 * come from the usage view, which reads the stored status counts.
 */
async function check(ctx: ApiContext, org: Org): Promise<InviteCheck> {
  const now = ctx.now();
  const facts =
    org.counting.presence === 'activity'
      ? await ctx.store.inviteFacts(org.id, epochDayNow(now, org.timezone))
      : await getUsage(ctx.store, org, monthOfInstant(now, org.timezone), now).then((usage) => ({
          seats: usage.current ?? 0,
          activeAndInvited: usage.activeAndInvited,
        }));
  return inviteCheck({
    seats: facts.seats,
    allowance: allowance(org.plan),
    activeAndInvited: facts.activeAndInvited,
    fairUseCap: org.fairUseCap,
    plan: org.plan,
  });
}

/** The invite check and the invite itself (SPEC.md section 4). */
export const inviteRoutes =
  (ctx: ApiContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/v1/orgs/:org/invites/check',
      { schema: { params: orgParams, body: inviteBody, response: answers(inviteCheckAnswer) } },
      async (request) => {
        const { org } = await ctx.orgFor(request, request.params.org, 'read');
        return check(ctx, org);
      },
    );

    app.post(
      '/v1/orgs/:org/invites',
      { schema: { params: orgParams, body: inviteBody, response: created(inviteAnswer) } },
      async (request, reply) => {
        const { org } = await ctx.orgFor(request, request.params.org, 'admin');
        const result = await check(ctx, org);
        if (result.decision === 'blocked') throw new FairUseCapError(org.fairUseCap as number);
        const { email, name, projects } = request.body;
        const id = request.body.id ?? email.toLowerCase();
        const now = ctx.now();
        // The store checks the cap again, one invite at a time: this check may be outrun.
        const member = await ctx.store.invite(
          org.id,
          {
            id,
            email,
            ...(name === undefined ? {} : { name }),
            ...(projects === undefined ? {} : { projects }),
          },
          org.fairUseCap,
          now,
        );
        await ctx.changed(org);
        return reply.code(201).send({ member: memberView(member), check: result });
      },
    );
  };
