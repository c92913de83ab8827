import { monthOfInstant, previousMonth } from '../core/calendar.js';
import type { Org } from '../core/types.js';
import { validateBatch } from '../ingest/validate-batch.js';
import type { Store } from '../store/store.js';

const DAY = 86_400_000;

/** A small seeded generator (mulberry32): the demo, and the benchmarks, are the same on every machine. */
export function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const FIRST = [
  'Curtis',
  'Ann',
  'Mads',
  'Sofie',
  'Jonas',
  'Freja',
  'Emil',
  'Ida',
  'Lucas',
  'Clara',
  'Noah',
  'Alma',
];
const LAST = ['Miller', 'Jensen', 'Nielsen', 'Hansen', 'Pedersen', 'Larsen', 'Berg', 'Holm', 'Lund', 'Dahl'];

/** The first instant of the month two months before `now`'s, in UTC terms good enough for a start. */
function demoStart(now: number, timezone: string): number {
  const month = previousMonth(previousMonth(monthOfInstant(now, timezone)));
  return Date.parse(`${month}-01T12:00:00Z`);
}

const callCentre = (now: number): Org => ({
  id: 'nordic-calls',
  name: 'Nordic Calls ApS',
  timezone: 'Europe/Copenhagen',
  counting: { presence: 'activity', aggregation: 'peak' },
  plan: {
    type: 'per_license',
    currency: 'EUR',
    unitPrice: 2500,
    minimumLicenses: 25,
    licenses: 96,
    overageUnitPrice: 3000,
  },
  fairUseCap: 10_000,
  autoCloseDays: 3,
  billingEmails: ['billing@nordic-calls.example'],
  webhookUrl: null,
  webhookSecret: null,
  createdAt: demoStart(now, 'Europe/Copenhagen') - 30 * DAY,
});

const appCompany = (now: number): Org => ({
  id: 'pixel-apps',
  name: 'Pixel Apps Inc.',
  timezone: 'America/New_York',
  counting: { presence: 'status', aggregation: 'average' },
  plan: {
    type: 'tiered',
    currency: 'USD',
    tiers: [
      { upTo: 20, price: 10_000 },
      { upTo: 50, price: 20_000 },
      { upTo: 100, price: 35_000 },
      { upTo: null, price: 60_000 },
    ],
    subscribedUpTo: 100,
  },
  fairUseCap: 10_000,
  autoCloseDays: 3,
  billingEmails: ['finance@pixel-apps.example'],
  webhookUrl: null,
  webhookSecret: null,
  createdAt: demoStart(now, 'America/New_York') - 30 * DAY,
});

async function seedCallCentre(store: Store, now: number): Promise<void> {
  const org = await store.createOrg(callCentre(now), now);
  const random = seeded(7);
  const teams = ['inbound', 'outbound', 'retention', 'sales'];
  for (const t of teams) await store.putTeam(org.id, t, `${t[0]?.toUpperCase()}${t.slice(1)}`);
  const agents = Array.from({ length: 120 }, (_, i) => {
    const first = FIRST[i % FIRST.length] as string;
    const last = LAST[Math.floor(i / FIRST.length) % LAST.length] as string;
    return {
      id: `${first}.${last}`.toLowerCase(),
      name: `${first} ${last}`,
      team: teams[i % teams.length] as string,
      i,
    };
  });
  for (const a of agents) {
    await store.putMember(
      org.id,
      {
        id: a.id,
        name: a.name,
        email: `${a.id}@nordic-calls.example`,
        teams: [a.team],
        aliases: [{ source: 'adversus_calls', externalId: String(1000 + a.i) }],
      },
      now,
    );
    await store.appendStatus(org.id, a.id, 'active', org.createdAt, now);
  }
  // Two administrators who only look at dashboards: no data, never billed.
  for (const id of ['admin', 'viewer']) {
    await store.putMember(org.id, { id, name: id, email: `${id}@nordic-calls.example` }, now);
    await store.appendStatus(org.id, id, 'active', org.createdAt, now);
  }
  const events: object[] = [];
  const flush = async () => {
    const batch = validateBatch(events.splice(0), now);
    if (!batch.ok) throw new Error(`demo data invalid: ${JSON.stringify(batch.issues[0])}`);
    await store.ingest(org, batch.events, now);
  };
  let n = 0;
  for (let t = demoStart(now, org.timezone); t < now - 2 * 3_600_000; t += DAY) {
    const weekday = new Date(t).getUTCDay();
    const weekend = weekday === 0 || weekday === 6;
    // Most days 85-100 agents work; now and then a campaign day goes past the 96 licences.
    const working = weekend ? 20 + Math.floor(random() * 10) : 85 + Math.floor(random() * 16);
    const shift = agents
      .slice()
      .sort(() => random() - 0.5)
      .slice(0, working);
    for (const a of shift) {
      const calls = 3 + Math.floor(random() * 6);
      for (let c = 0; c < calls; c++) {
        const at = t - 4 * 3_600_000 + Math.floor(random() * 9 * 3_600_000);
        if (at > now) continue;
        events.push({
          id: `call-${n++}`,
          member: String(1000 + a.i),
          source: 'adversus_calls',
          occurredAt: new Date(at).toISOString(),
        });
      }
      if (random() < 0.2) {
        events.push({
          id: `sale-${n++}`,
          member: a.id,
          source: 'adversus_sales',
          occurredAt: new Date(t).toISOString(),
        });
      }
    }
    // Marketing data arrives without a member: the shared member "marketing_leads" holds it.
    events.push({
      id: `lead-${n++}`,
      source: 'marketing_leads',
      occurredAt: new Date(t - 3_600_000).toISOString(),
    });
    if (events.length > 5000) await flush();
  }
  await flush();
  // One agent left the company: deactivated, so never billed for open months.
  await store.appendStatus(org.id, agents[7]?.id as string, 'deactivated', now - 5 * DAY, now);
}

async function seedAppCompany(store: Store, now: number): Promise<void> {
  const org = await store.createOrg(appCompany(now), now);
  const random = seeded(11);
  const projects = ['ios-app', 'android-app', 'web-shop', 'growth'];
  for (const p of projects) await store.putProject(org.id, p, p.replace('-', ' '));
  const start = demoStart(now, org.timezone);
  const span = now - start;
  for (let i = 0; i < 95; i++) {
    const first = FIRST[i % FIRST.length] as string;
    const last = LAST[(i * 7) % LAST.length] as string;
    const id = `${first}.${last}${i}`.toLowerCase();
    const mine = projects.filter((_, k) => (i + k) % 3 === 0 || k === i % 4);
    await store.putMember(
      org.id,
      { id, name: `${first} ${last}`, email: `${id}@pixel-apps.example`, projects: mine },
      now,
    );
    const invitedAt = i < 80 ? start - 20 * DAY : start + Math.floor(random() * span * 0.9);
    await store.appendStatus(org.id, id, 'invited', invitedAt, now);
    // Most accept within days (some through SSO); a few never do; some are revoked later.
    if (random() < 0.9) {
      const activeAt = invitedAt + Math.floor(random() * 3 * DAY);
      if (activeAt < now) await store.appendStatus(org.id, id, 'active', activeAt, now);
      if (random() < 0.12) {
        const revokedAt = activeAt + Math.floor(random() * span * 0.6);
        if (revokedAt < now) await store.appendStatus(org.id, id, 'revoked', revokedAt, now);
      }
    }
  }
}

/**
 * Creates the two demo orgs for the last three months up to `now`: a call centre on the
 * tracked-employee model and an app company on the active-user model, each unless its id is taken.
 * With `onlyIntoEmpty` (`serve --demo`), nothing is created in a database that holds orgs already.
 * Answers the ids of the orgs it created.
 */
export async function createDemo(
  store: Store,
  now: number,
  options: { onlyIntoEmpty?: boolean } = {},
): Promise<string[]> {
  const taken = new Set((await store.listOrgs()).map((o) => o.id));
  if (options.onlyIntoEmpty && taken.size > 0) return [];
  const created: string[] = [];
  for (const [id, seed] of [
    [callCentre(now).id, seedCallCentre],
    [appCompany(now).id, seedAppCompany],
  ] as const) {
    if (taken.has(id)) continue;
    await seed(store, now);
    created.push(id);
  }
  return created;
}
