import { z } from 'zod';
import { countingSchema, errorBody, perLicensePlanSchema, tieredPlanSchema } from './schemas.js';

/**
 * The answers' schemas (SPEC.md section 6): they document each route's answers in
 * `/v1/openapi.json`. The server writes answers with `JSON.stringify`; the API tests have every
 * answer checked against these schemas, so the document cannot drift from what is served. Answers
 * may carry more fields than these name ("more fields may be added"): every object is loose.
 */

const instant = z.iso.datetime().describe('an instant, ISO 8601 in UTC');
const date = z.iso.date().describe('a day in the org timezone, YYYY-MM-DD');
const month = z
  .string()
  .regex(/^\d{4}-\d{2}$/)
  .describe('YYYY-MM');

const figure = z
  .object({
    value: z.number().describe('rounded to two decimals, for display'),
    numerator: z.number().int(),
    denominator: z.number().int().positive(),
  })
  .describe('an exact rational figure: decisions use numerator / denominator');

const plan = z.discriminatedUnion('type', [perLicensePlanSchema, tieredPlanSchema]);
const state = z.enum(['ok', 'approaching', 'over', 'capped']);

const charge = z.looseObject({
  currency: z.string(),
  amount: z.number().int().describe('integer minor units'),
  licenses: z.number().int().nullable().describe('per_license: max(licenses, minimumLicenses); tiered: null'),
  tierUpTo: z
    .number()
    .int()
    .nullable()
    .describe('tiered: the charged tier (null = unlimited); per_license: null'),
  overage: z.number().int().nullable().describe('per_license: licences needed above them; tiered: null'),
});

const days = z.array(z.looseObject({ date, count: z.number().int().nonnegative() }));

export const orgAnswer = z
  .looseObject({
    id: z.string(),
    name: z.string(),
    timezone: z.string(),
    counting: countingSchema,
    plan,
    fairUseCap: z.number().int().nullable(),
    autoCloseDays: z.number().int(),
    billingEmails: z.array(z.string()),
    webhookUrl: z.string().nullable(),
    webhookSecret: z.string().nullable().optional().describe('shown to the operator and admin keys'),
    createdAt: instant,
  })
  .describe('an org');

export const orgsAnswer = z
  .looseObject({
    orgs: z.array(
      orgAnswer.extend({
        usage: z
          .looseObject({ billable: figure, projected: figure, allowance: z.number().int().nullable(), state })
          .describe('the month in progress'),
      }),
    ),
  })
  .describe('every org, with its usage of the month in progress');

export const keyAnswer = z
  .looseObject({
    id: z.string(),
    key: z.string().describe('shown once'),
    scopes: z.array(z.enum(['ingest', 'read', 'admin'])),
  })
  .describe('the new org key');

export const namedAnswer = z
  .looseObject({ id: z.string(), name: z.string() })
  .describe('the project or team');

const status = z.enum(['invited', 'active', 'revoked', 'deactivated']);

export const memberAnswer = z
  .looseObject({
    id: z.string(),
    email: z.string().nullable(),
    name: z.string().nullable(),
    kind: z.enum(['person', 'shared']),
    status: status.nullable().describe('the status in force now; null before any'),
    projects: z.array(z.string()),
    teams: z.array(z.string()),
    aliases: z.array(z.looseObject({ source: z.string(), externalId: z.string() })),
    createdAt: instant,
  })
  .describe('the member');

export const inviteCheckAnswer = z
  .looseObject({
    decision: z.enum(['ok', 'warning', 'breach', 'blocked']),
    seats: z.number().int().describe("today's count"),
    after: z.number().int(),
    allowance: z.number().int().nullable(),
    percent: z.number().nullable().describe('after / allowance x 100, one decimal'),
    message: z.string(),
  })
  .describe('the invite decision');

export const inviteAnswer = z
  .looseObject({ member: memberAnswer, check: inviteCheckAnswer })
  .describe('the invited member and the invite check');

export const eventsAnswer = z
  .looseObject({
    accepted: z.number().int().describe('newly stored events, late ones included'),
    duplicates: z.number().int(),
    late: z.number().int(),
  })
  .describe('what the batch stored');

export const usageAnswer = z
  .looseObject({
    org: z.string(),
    month,
    timezone: z.string(),
    daysInMonth: z.number().int(),
    closed: z.boolean(),
    counting: countingSchema,
    days,
    current: z.number().int().nullable().describe("today's count; null unless the month is in progress"),
    toDate: figure,
    projected: figure,
    billable: figure,
    allowance: z.number().int().nullable(),
    state,
    activeAndInvited: z.number().int(),
    lateEvents: z.number().int(),
    charge,
  })
  .describe("the month's usage");

export const membersAnswer = z
  .looseObject({
    members: z.array(
      z.looseObject({
        id: z.string(),
        email: z.string().nullable(),
        name: z.string().nullable(),
        kind: z.enum(['person', 'shared']),
        status: status.nullable(),
        billable: z.boolean(),
        reason: z.enum(['activity', 'active', 'deactivated', 'no_activity', 'not_active']),
        daysCounted: z.number().int(),
        firstDay: date.nullable(),
        lastDay: date.nullable(),
        projects: z.array(z.string()),
        teams: z.array(z.string()),
        sources: z.record(z.string(), z.number().int()).describe('events per source in the month'),
      }),
    ),
    totals: z
      .looseObject({ members: z.number().int(), billable: z.number().int() })
      .describe('of the whole list'),
    facets: z
      .looseObject({
        teams: z.array(z.string()),
        projects: z.array(z.string()),
        sources: z.array(z.string()),
      })
      .describe('every team, project and source of the whole list'),
    nextCursor: z.string().nullable().describe('pass as cursor for the next page; null on the last'),
  })
  .describe(
    'who counted in the month; with Accept: text/csv or format=csv, every listed member as a CSV row (text/csv) instead',
  );

const memberCounts = { members: z.number().int(), billable: z.number().int() };
export const projectsAnswer = z
  .looseObject({
    projects: z.array(z.looseObject({ id: z.string(), name: z.string(), ...memberCounts })),
    total: z.looseObject(memberCounts).describe('each member once'),
  })
  .describe('members per project and the org total');

const alertAnswer = z.looseObject({
  id: z.string(),
  kind: z.enum(['approaching', 'breach', 'cap_reached']),
  month,
  value: z.number(),
  figure,
  allowance: z.number().int().nullable(),
  message: z.string(),
  createdAt: instant,
});

export const alertsAnswer = z
  .looseObject({
    alerts: z.array(
      alertAnswer.extend({
        deliveries: z.array(
          z.looseObject({
            channel: z.enum(['email', 'webhook']),
            target: z.string(),
            status: z.enum(['pending', 'sent', 'failed']),
            attempts: z.number().int(),
            lastError: z.string().nullable(),
            nextAttemptAt: instant.nullable(),
            log: z.array(
              z.looseObject({
                attempt: z.number().int(),
                at: instant,
                ok: z.boolean(),
                error: z.string().nullable(),
              }),
            ),
          }),
        ),
      }),
    ),
    banner: z
      .looseObject({ state: state.exclude(['ok']), level: z.enum(['warning', 'error']), message: z.string() })
      .nullable()
      .describe("the dashboard's nag bar for the month in progress"),
  })
  .describe('the alerts with their deliveries, and the banner');

export const statementAnswer = z
  .looseObject({
    org: z.string(),
    month,
    closedAt: instant,
    counting: countingSchema,
    plan,
    days,
    billable: figure,
    allowance: z.number().int().nullable(),
    state,
    charge,
    lateEvents: z.number().int(),
    late: z.array(z.looseObject({ date, member: z.string(), source: z.string(), events: z.number().int() })),
  })
  .describe("the closed month's statement");

export const linkAnswer = z
  .looseObject({ url: z.url(), expiresAt: instant })
  .describe('a signed link to the org dashboard');

/** The answers a route may give besides its success: every error has the same shape. */
const errors = {
  400: errorBody.describe('bad input: details name every bad field'),
  401: errorBody.describe('no valid key'),
  403: errorBody.describe('the key lacks the scope'),
  404: errorBody.describe('no such resource, or another org'),
  409: errorBody.describe('a conflict: the code says which'),
  413: errorBody.describe('the body is larger than 16 MiB'),
  429: errorBody.describe('too many requests'),
};

/**
 * The answers of a route by status code. Typed loosely on purpose: the handlers return the core's
 * readonly types, which the schemas describe as JSON; the API tests check each answer against them.
 */
type Answers = Record<number, z.ZodType>;

/** A route's answers: `success` with 200, and the errors. */
export function answers(success: z.ZodType): Answers {
  return { 200: success, ...errors };
}

/** A creating route's answers: `success` with 201, and the errors. */
export function created(success: z.ZodType): Answers {
  return { 201: success, ...errors };
}
