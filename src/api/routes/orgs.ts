import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { monthOfInstant } from '../../core/calendar.js';
import { type FieldIssue, ValidationError } from '../../core/errors.js';
import { type Plan, planIssues } from '../../core/plans.js';
import type { Org } from '../../core/types.js';
import { getUsage } from '../../usage/usage-service.js';
import { type Caller, newApiKey } from '../auth.js';
import type { ApiContext } from '../context.js';
import { answers, created, keyAnswer, orgAnswer, orgsAnswer, usageAnswer } from '../responses.js';
import {
  createKeyBody,
  createOrgBody,
  monthQuery,
  orgParams,
  patchOrgBody,
  perLicensePlanSchema,
  planSchema,
  tieredPlanSchema,
} from '../schemas.js';
import { isPrivateWebhookTarget } from '../webhook-url.js';

/** The API's view of an org (SPEC.md section 6). The webhook secret is shown to operator and admin keys. */
export function orgView(org: Org, showSecrets = true) {
  return {
    id: org.id,
    name: org.name,
    timezone: org.timezone,
    counting: org.counting,
    plan: org.plan,
    fairUseCap: org.fairUseCap,
    autoCloseDays: org.autoCloseDays,
    billingEmails: org.billingEmails,
    webhookUrl: org.webhookUrl,
    webhookSecret: showSecrets ? org.webhookSecret : undefined,
    createdAt: new Date(org.createdAt).toISOString(),
  };
}

/** Webhook URLs (http or https, by their schema) must not point into private networks, unless allowed. */
function webhookIssues(url: string | null, allowPrivate: boolean): FieldIssue[] {
  if (url === null || allowPrivate || !isPrivateWebhookTarget(url)) return [];
  return [
    {
      field: 'webhookUrl',
      message: 'points at a loopback or private network (set SEATMETER_ALLOW_PRIVATE_WEBHOOKS=1 to allow)',
    },
  ];
}

const newSecret = () => `whsec_${randomBytes(24).toString('hex')}`;

type PatchBody = z.infer<typeof patchOrgBody>;

/** The fields of each type of plan, as its schema has them: a partial plan names only fields of its type. */
const PLAN_FIELDS: Record<Plan['type'], readonly string[]> = {
  per_license: Object.keys(perLicensePlanSchema.shape),
  tiered: Object.keys(tieredPlanSchema.shape),
};

/**
 * The plan a PATCH asks for: a plan of another type whole, else the current plan with the fields
 * the PATCH names. Its bad fields go to `issues`.
 */
function patchedPlan(current: Plan, patch: PatchBody['plan'], issues: FieldIssue[]): Plan {
  if (patch === undefined) return current;
  const type = patch.type ?? current.type;
  for (const field of Object.keys(patch)) {
    if (!PLAN_FIELDS[type].includes(field)) {
      issues.push({ field: `plan.${field}`, message: `is not a field of a ${type} plan` });
    }
  }
  const merged = type === current.type ? { ...current, ...patch } : patch;
  const parsed = planSchema.safeParse(merged);
  if (parsed.success) return parsed.data;
  for (const i of parsed.error.issues) {
    issues.push({ field: ['plan', ...i.path.map(String)].join('.'), message: i.message });
  }
  return current;
}

/**
 * Applies a PATCH to an org: settings replaced, a partial plan merged, `licenses` and
 * `subscribedUpTo` (or `tier`) as shorthands. 400 naming every bad field.
 */
function patched(org: Org, patch: PatchBody, allowPrivateWebhooks: boolean): Org {
  const issues: FieldIssue[] = [];
  let plan: Plan = patchedPlan(org.plan, patch.plan, issues);
  if (patch.licenses !== undefined) {
    if (plan.type === 'per_license') plan = { ...plan, licenses: patch.licenses };
    else issues.push({ field: 'licenses', message: 'the plan is not per_license' });
  }
  for (const field of ['subscribedUpTo', 'tier'] as const) {
    const upTo = patch[field];
    if (upTo === undefined) continue;
    if (plan.type === 'tiered') plan = { ...plan, subscribedUpTo: upTo };
    else issues.push({ field, message: 'the plan is not tiered' });
  }
  if (patch.licenses !== undefined || patch.subscribedUpTo !== undefined || patch.tier !== undefined) {
    issues.push(...planIssues(plan).map((i) => ({ ...i, field: `plan.${i.field}` })));
  }
  const webhookUrl = patch.webhookUrl === undefined ? org.webhookUrl : patch.webhookUrl;
  if (patch.webhookUrl !== undefined) issues.push(...webhookIssues(webhookUrl, allowPrivateWebhooks));
  if (issues.length > 0) throw new ValidationError(issues);
  return {
    ...org,
    name: patch.name ?? org.name,
    timezone: patch.timezone ?? org.timezone,
    counting: patch.counting ?? org.counting,
    plan,
    fairUseCap: patch.fairUseCap === undefined ? org.fairUseCap : patch.fairUseCap,
    autoCloseDays: patch.autoCloseDays ?? org.autoCloseDays,
    billingEmails: patch.billingEmails ?? org.billingEmails,
    webhookUrl,
    webhookSecret: webhookUrl === null ? null : (org.webhookSecret ?? newSecret()),
  };
}

export const orgRoutes =
  (ctx: ApiContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/v1/orgs',
      { schema: { body: createOrgBody, response: created(orgAnswer) } },
      async (request, reply) => {
        await ctx.access(request, null, 'admin');
        const b = request.body;
        const plan = b.plan as Plan;
        const issues = webhookIssues(b.webhookUrl, ctx.allowPrivateWebhooks);
        if (issues.length > 0) throw new ValidationError(issues);
        const org: Org = {
          ...b,
          plan,
          webhookSecret: b.webhookUrl === null ? null : newSecret(),
          createdAt: ctx.now(),
        };
        await ctx.store.createOrg(org, ctx.now());
        return reply.code(201).send(orgView(org));
      },
    );

    app.get('/v1/orgs', { schema: { response: answers(orgsAnswer) } }, async (request) => {
      await ctx.access(request, null, 'read');
      const now = ctx.now();
      const orgs = await ctx.store.listOrgs();
      return {
        orgs: await Promise.all(
          orgs.map(async (org) => {
            const usage = await getUsage(ctx.store, org, monthOfInstant(now, org.timezone), now);
            return {
              ...orgView(org),
              usage: {
                billable: usage.billable,
                projected: usage.projected,
                allowance: usage.allowance,
                state: usage.state,
              },
            };
          }),
        ),
      };
    });

    app.get(
      '/v1/orgs/:org',
      { schema: { params: orgParams, response: answers(orgAnswer) } },
      async (request) => {
        const { org, caller } = await ctx.orgFor(request, request.params.org, 'read');
        return orgView(org, canSeeSecrets(caller));
      },
    );

    app.patch(
      '/v1/orgs/:org',
      { schema: { params: orgParams, body: patchOrgBody, response: answers(orgAnswer) } },
      async (request) => {
        const found = await ctx.orgFor(request, request.params.org, 'admin');
        const org = patched(found.org, request.body, ctx.allowPrivateWebhooks);
        await ctx.store.updateOrg(org, ctx.now());
        await ctx.changed(org);
        return orgView(org);
      },
    );

    app.post(
      '/v1/orgs/:org/keys',
      { schema: { params: orgParams, body: createKeyBody, response: created(keyAnswer) } },
      async (request, reply) => {
        await ctx.access(request, null, 'admin');
        const org = await ctx.findOrg(request.params.org);
        const scopes = [...new Set(request.body.scopes)];
        const { key, stored } = newApiKey(org.id, scopes);
        await ctx.store.saveApiKey(org.id, stored, ctx.now());
        // The key is shown this once; only a hash of its secret is kept.
        return reply.code(201).send({ id: stored.keyId, key, scopes });
      },
    );

    app.get(
      '/v1/orgs/:org/usage',
      { schema: { params: orgParams, querystring: monthQuery, response: answers(usageAnswer) } },
      async (request) => {
        const { org } = await ctx.orgFor(request, request.params.org, 'read');
        const now = ctx.now();
        return getUsage(ctx.store, org, request.query.month ?? monthOfInstant(now, org.timezone), now);
      },
    );
  };

/** Webhook secrets are shown to the operator and to `admin` keys only. */
function canSeeSecrets(caller: Caller): boolean {
  return caller.kind === 'operator' || caller.scopes.includes('admin');
}
