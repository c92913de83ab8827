import { z } from 'zod';
import { isValidTimezone } from '../core/calendar.js';
import { planIssues } from '../core/plans.js';
import { AGGREGATIONS, PRESENCES } from '../core/types.js';

/** Request and response schemas: they validate requests and generate `/v1/openapi.json`. */

export const ORG_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const money = z.number().int().nonnegative().describe('integer minor units');
const currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR');

export const perLicensePlanSchema = z.object({
  type: z.literal('per_license'),
  currency,
  unitPrice: money,
  minimumLicenses: z.number().int().nonnegative().default(0),
  licenses: z.number().int().nonnegative(),
  overageUnitPrice: money.nullable().default(null),
});

export const tieredPlanSchema = z.object({
  type: z.literal('tiered'),
  currency,
  tiers: z.array(z.object({ upTo: z.number().int().positive().nullable(), price: money })).min(1),
  subscribedUpTo: z.number().int().positive().nullable(),
});

/** A plan, with the rules its shape cannot express (`planIssues`), so a 400 names every bad field at once. */
export const planSchema = z.discriminatedUnion('type', [perLicensePlanSchema, tieredPlanSchema]).superRefine(
  (plan, ctx) => {
    // A field the shape already found bad is named once.
    const named = new Set(ctx.issues.map((i) => (i.path ?? []).join('.')));
    for (const issue of planIssues(plan)) {
      if (!named.has(issue.field)) {
        ctx.addIssue({ code: 'custom', path: issue.field.split('.'), message: issue.message });
      }
    }
  },
  // Also beside other bad fields, once the plan has the shape the rules read.
  { when: (payload) => hasPlanShape(payload.value) },
);

function hasPlanShape(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { type, tiers } = value as { type?: unknown; tiers?: unknown };
  if (type === 'per_license') return true;
  return (
    type === 'tiered' &&
    Array.isArray(tiers) &&
    tiers.every((t: unknown) => typeof t === 'object' && t !== null)
  );
}

export const countingSchema = z.object({
  presence: z.enum(PRESENCES as ['activity', 'status']),
  aggregation: z.enum(AGGREGATIONS as ['peak', 'average']),
});

const timezone = z.string().refine(isValidTimezone, 'must be an IANA timezone such as Europe/Copenhagen');
const email = z.email();

/** The settings an org may change with PATCH. */
const orgSettings = {
  name: z.string().min(1).max(200),
  timezone,
  counting: countingSchema,
  plan: planSchema,
  fairUseCap: z.number().int().positive().nullable(),
  autoCloseDays: z.number().int().min(0).max(365),
  billingEmails: z.array(email).max(50),
  webhookUrl: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }).nullable(),
};

export const createOrgBody = z.object({
  id: z.string().regex(ORG_ID, 'must match ^[a-z0-9][a-z0-9_-]{0,62}$'),
  name: orgSettings.name,
  timezone: orgSettings.timezone.default('UTC'),
  counting: orgSettings.counting.default({ presence: 'activity', aggregation: 'peak' }),
  plan: orgSettings.plan,
  fairUseCap: orgSettings.fairUseCap.default(10_000),
  autoCloseDays: orgSettings.autoCloseDays.default(3),
  billingEmails: orgSettings.billingEmails.default([]),
  webhookUrl: orgSettings.webhookUrl.default(null),
});

/**
 * A plan in a PATCH: the whole plan, or only the fields that change (`{ "licenses": 10 }`,
 * `{ "subscribedUpTo": 100 }`), merged into the current plan of the same type and then checked
 * as a whole plan.
 */
export const planPatchSchema = z
  .object({
    type: z.enum(['per_license', 'tiered']),
    currency: z.string(),
    unitPrice: z.number(),
    minimumLicenses: z.number(),
    licenses: z.number(),
    overageUnitPrice: z.number().nullable(),
    tiers: z.array(z.object({ upTo: z.number().nullable(), price: z.number() })),
    subscribedUpTo: z.number().nullable(),
  })
  .partial();

export const patchOrgBody = z
  .object({
    ...orgSettings,
    plan: planPatchSchema,
    // Shorthands for the two changes customers make most ("licences, tier" in SPEC.md section 6).
    licenses: z.number().int().nonnegative(),
    subscribedUpTo: z.number().int().positive().nullable(),
    tier: z.number().int().positive().nullable().describe('the same as subscribedUpTo'),
  })
  .partial();

export const orgParams = z.object({ org: z.string().min(1) });
export const monthQuery = z.object({
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month, YYYY-MM')
    .optional(),
});

export const errorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(z.object({ field: z.string(), message: z.string(), index: z.number().optional() })),
  }),
});

const id = z.string().min(1).max(200);
export const nameBody = z.object({ name: z.string().min(1).max(200).optional() });
export const projectParams = z.object({ org: z.string().min(1), project: id });
export const teamParams = z.object({ org: z.string().min(1), team: id });
export const memberParams = z.object({ org: z.string().min(1), member: id });

export const memberBody = z.object({
  email: z.email().nullable().optional(),
  name: z.string().max(200).nullable().optional(),
  kind: z.enum(['person', 'shared']).optional(),
  projects: z.array(id).max(1000).optional(),
  teams: z.array(id).max(1000).optional(),
  aliases: z
    .array(z.object({ source: id, externalId: id }))
    .max(1000)
    .optional(),
  status: z.enum(['invited', 'active', 'revoked', 'deactivated']).optional(),
});

export const statusBody = z.object({
  status: z.enum(['invited', 'active', 'revoked', 'deactivated']),
  at: z.iso.datetime({ offset: true }).optional(),
});

/** The ingest body is checked whole by `validateBatch`, which reports every bad event by index. */
export const eventsBody = z.object({ events: z.array(z.unknown()) });

export const membersQuery = z.object({
  month: monthQuery.shape.month,
  team: id.optional(),
  project: id.optional(),
  source: id.optional(),
  all: z.enum(['true', 'false', '1', '0']).optional(),
  format: z.enum(['json', 'csv']).optional(),
  limit: z.coerce.number().int().min(1).max(100_000).optional(),
  cursor: z.string().optional(),
});

export const inviteBody = z.object({
  email: z.email(),
  id: id.optional(),
  name: z.string().max(200).optional(),
  projects: z.array(id).max(1000).optional(),
});

export const createKeyBody = z.object({
  scopes: z.array(z.enum(['ingest', 'read', 'admin'])).min(1),
});

export const monthParams = z.object({
  org: z.string().min(1),
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month, YYYY-MM'),
});
