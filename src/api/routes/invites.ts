import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { DayMapper, monthOfInstant, utcEpochDayOf } from '../../core/calendar.js';
import { FairUseCapError, NotFoundError } from '../../core/errors.js';
import { type InviteCheck, inviteCheck } from '../../core/invite.js';
import { allowance } from '../../core/plans.js';
import type { Org } from '../../core/types.js';
import type { InviteView } from '../../store/store.js';
import { getUsage } from '../../usage/usage-service.js';
import type { Scope } from '../auth.js';
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
 * The org and its invite decision from today's seats and the active + invited count, for a
 * caller allowed `scope`. Under `activity` presence the org and both figures come in one read
 * (this runs on every invite screen): the seats of the days around the UTC day, of which the
 * org's local today is one. Under `status` presence today's seats come from the usage view, which
 * reads the stored status counts.
 */
async function check(
  ctx: ApiContext,
  request: FastifyRequest,
  orgId: string,
  scope: Scope,
): Promise<{ org: Org; check: InviteCheck }> {
  await ctx.access(request, orgId, scope);
  const now = ctx.now();
  const utcDay = utcEpochDayOf(now);
  const view = await ctx.store.inviteView(orgId, utcDay);
  if (view === undefined) throw new NotFoundError('org', orgId);
  const { org } = view;
  const facts =
    org.counting.presence === 'activity'
      ? {
          seats: seatsOn(view, epochDayNow(now, org.timezone) - utcDay),
          activeAndInvited: view.activeAndInvited,
        }
      : await getUsage(ctx.store, org, monthOfInstant(now, org.timezone), now).then((usage) => ({
          seats: usage.current ?? 0,
          activeAndInvited: usage.activeAndInvited,
        }));
  return {
    org,
    check: inviteCheck({
      seats: facts.seats,
      allowance: allowance(org.plan),
      activeAndInvited: facts.activeAndInvited,
      fairUseCap: org.fairUseCap,
      plan: org.plan,
    }),
  };
}

/** The seats of the local day `offset` days from the UTC one: -1, 0 or 1 in every timezone. */
function seatsOn(view: InviteView, offset: number): number {
  const seats = view.seatsAround[offset + 1];
  if (seats === undefined) throw new Error(`a local day ${offset} days from the UTC day`);
  return seats;
}

/** The invite check and the invite itself (SPEC.md section 4). */
export const inviteRoutes =
  (ctx: ApiContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/v1/orgs/:org/invites/check',
      { schema: { params: orgParams, body: inviteBody, response: answers(inviteCheckAnswer) } },
      async (request) => (await check(ctx, request, request.params.org, 'read')).check,
    );

    app.post(
      '/v1/orgs/:org/invites',
      { schema: { params: orgParams, body: inviteBody, response: created(inviteAnswer) } },
      async (request, reply) => {
        const { org, check: result } = await check(ctx, request, request.params.org, 'admin');
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
