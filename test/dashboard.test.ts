import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateAlerts } from '../src/alerts/alerts-service.js';
import { createDemo } from '../src/demo/demo-data.js';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';
import { perLicensePlan } from './support/fixtures.js';
import { type SocketServer, serveOnSocket } from './support/socket-server.js';

/**
 * The dashboard in real headless Chromium (Debian's `chromium`, driven by playwright-core) against a
 * server on the demo data: figures equal the API's, filters, CSV, the invite dialog, links refused,
 * the operator's overview, phone width and keyboard, and no console errors anywhere.
 */
const ADMIN = 'operator-secret';
const NOW = Date.parse('2026-11-23T15:00:00Z');
const CHROMIUM = process.env.SEATMETER_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = join(import.meta.dirname, '../.tmp/screenshots');

// What the `page.evaluate` callbacks use of the page's globals (this program has no DOM types).
declare const document: {
  querySelectorAll(selector: string): { length: number };
  querySelector(selector: string): { textContent: string | null } | null;
  documentElement: { scrollWidth: number };
  activeElement: { innerText?: string; closest(selector: string): unknown } | null;
};
declare const window: { innerWidth: number };

interface UsageAnswer {
  month: string;
  current: number | null;
  billable: { value: number; denominator: number };
  projected: { value: number };
  allowance: number | null;
  state: string;
  days: Array<{ date: string; count: number }>;
}
interface MembersAnswer {
  members: Array<{ id: string; teams: string[]; billable: boolean }>;
  totals: { members: number; billable: number };
}

describe('the dashboard in Chromium', () => {
  let dir: string;
  let store: Store;
  let app: SocketServer;
  let browser: Browser;
  const consoleErrors: string[] = [];

  const api = async <T>(method: string, url: string, payload?: unknown) => {
    const res = await app.request({
      method,
      url,
      headers: { authorization: `Bearer ${ADMIN}` },
      ...(payload === undefined ? {} : { payload }),
    });
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res.json() as T;
  };
  /** An org on the tracked-employee model in UTC, with `fields` for its plan and the rest. */
  const createOrg = (id: string, name: string, fields: Record<string, unknown>) =>
    api('POST', '/v1/orgs', {
      id,
      name,
      timezone: 'UTC',
      counting: { presence: 'activity', aggregation: 'peak' },
      ...fields,
    });
  const link = async (org: string, ttlSeconds = 900) =>
    (await api<{ url: string }>('POST', `/v1/orgs/${org}/dashboard-links`, { ttlSeconds })).url;

  async function open(url: string, width = 1280): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 900 }, acceptDownloads: true });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${url}: ${m.text()}`);
    });
    page.on('pageerror', (e) => consoleErrors.push(`${url}: ${e.message}`));
    await page.goto(url);
    return page;
  }
  const text = async (page: Page, testid: string) =>
    (await page.locator(`[data-testid=${testid}]`).innerText()).replace(/\s+/g, ' ');
  const memberRows = (page: Page) => page.locator('[data-testid=members] tbody tr');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'seatmeter-dashboard-'));
    store = openStore(`sqlite:${join(dir, 'dash.db')}`);
    await store.migrate();
    await createDemo(store, NOW);
    for (const org of await store.listOrgs()) await evaluateAlerts(store, org, NOW);
    app = await serveOnSocket({ store, adminKey: ADMIN, now: () => NOW });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the org page with the figures, banner, chart and tables the API gives', async () => {
    const usage = await api<UsageAnswer>('GET', '/v1/orgs/nordic-calls/usage');
    const alerts = await api<{ banner: { message: string } | null }>('GET', '/v1/orgs/nordic-calls/alerts');
    const members = await api<MembersAnswer>('GET', '/v1/orgs/nordic-calls/usage/members');
    const page = await open(await link('nordic-calls'));
    await memberRows(page).first().waitFor();

    expect(await page.locator('h1').innerText()).toBe('Nordic Calls ApS');
    expect(await text(page, 'seats-today')).toContain(`Seats today ${usage.current}`);
    expect(await text(page, 'billable')).toContain(`Billable to date ${usage.billable.value}`);
    expect(usage.billable.denominator).toBe(1);
    // The chart's figures, for screen readers.
    const chartRows = await page.locator('[data-testid=chart-table] tbody tr').allTextContents();
    expect(chartRows).toEqual(usage.days.map((d) => `${d.date}${d.count}`));
    expect(await text(page, 'allowance')).toContain(`Allowance ${usage.allowance}`);
    expect(usage.state).toBe('over');
    expect(alerts.banner).not.toBeNull();
    expect(await text(page, 'banner')).toBe(`Over allowance. ${alerts.banner?.message}`);
    expect(await page.locator('.chart canvas').count()).toBe(1);
    expect(await memberRows(page).count()).toBe(members.members.length);
    expect(await text(page, 'members-totals')).toBe(
      `${members.totals.members} listed, ${members.totals.billable} billable`,
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'org-page.png') });

    // The app company: members per project as the API counts them, a tier instead of licences.
    const projects = await api<{ projects: Array<{ name: string; members: number; billable: number }> }>(
      'GET',
      '/v1/orgs/pixel-apps/usage/projects',
    );
    const apps = await open(await link('pixel-apps'));
    await apps.locator('[data-testid=projects] tbody tr').first().waitFor();
    const rows = await apps.locator('[data-testid=projects] tbody tr').allInnerTexts();
    expect(rows.map((r) => r.split('\t').map((c) => c.trim()))).toEqual(
      projects.projects.map((p) => [p.name, String(p.members), String(p.billable)]),
    );
    expect(await text(apps, 'charge')).toContain('tier up to 100 seats');
    // An average shows two decimals, also when it is whole.
    const appsUsage = await api<UsageAnswer>('GET', '/v1/orgs/pixel-apps/usage');
    expect(appsUsage.billable.denominator).toBeGreaterThan(1);
    expect(await text(apps, 'billable')).toContain(`Billable to date ${appsUsage.billable.value.toFixed(2)}`);
  });

  it('changes the table with the team filter and the sort, and switches months', async () => {
    const page = await open(await link('nordic-calls'));
    await memberRows(page).first().waitFor();
    // The team with most members listed this month.
    const listed = await api<MembersAnswer>('GET', '/v1/orgs/nordic-calls/usage/members');
    const perTeam = new Map<string, number>();
    for (const m of listed.members) for (const t of m.teams) perTeam.set(t, (perTeam.get(t) ?? 0) + 1);
    const team = [...perTeam].sort((a, b) => b[1] - a[1])[0]?.[0] as string;
    const expected = await api<MembersAnswer>(
      'GET',
      `/v1/orgs/nordic-calls/usage/members?team=${encodeURIComponent(team)}`,
    );
    expect(expected.members.length).toBeGreaterThan(0);
    await page.selectOption('[data-testid=filter-team]', team);
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid=members] tbody tr').length === n,
      expected.members.length,
    );
    const shown = await memberRows(page).evaluateAll((trs) =>
      trs.map((tr) => tr.getAttribute('data-member')),
    );
    expect([...shown].sort()).toEqual(expected.members.map((m) => m.id).sort());

    // Sorting by days, both ways.
    const days = async () =>
      (await memberRows(page).evaluateAll((trs) =>
        trs.map((tr) => Number(tr.children[4]?.textContent)),
      )) as number[];
    await page.getByRole('button', { name: 'Days' }).click();
    const down = await days();
    expect(down).toEqual([...down].sort((a, b) => b - a));
    await page.getByRole('button', { name: /Days/ }).click();
    const up = await days();
    expect(up).toEqual([...up].sort((a, b) => a - b));

    // Last month: its figures, from the API.
    const october = await api<UsageAnswer>('GET', '/v1/orgs/nordic-calls/usage?month=2026-10');
    await page.selectOption('[data-testid=month]', '2026-10');
    await expect
      .poll(() => text(page, 'billable'), { timeout: 10_000 })
      .toBe(`Billable ${october.billable.value} highest daily count`);
    expect(await page.locator('h2').first().innerText()).toBe('Daily seats in October 2026');
  });

  it('shows the month chosen last when an earlier choice is answered later', async () => {
    const page = await open(await link('nordic-calls'));
    await memberRows(page).first().waitFor();
    // The page opens on the month in progress, November.
    const shown = await text(page, 'billable');
    // October's projects (which only October's view asks for) are held back until November has
    // been chosen again and shown.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const octoberOnly = /\/usage\/projects\?month=2026-10$/;
    await page.route(octoberOnly, async (route) => {
      await held;
      await route.continue();
    });
    const november = await api<UsageAnswer>('GET', '/v1/orgs/nordic-calls/usage?month=2026-11');
    const october = await api<UsageAnswer>('GET', '/v1/orgs/nordic-calls/usage?month=2026-10');
    expect(october.billable.value).not.toBe(november.billable.value);
    expect(shown).toContain(` ${november.billable.value} `);
    // (Kept from rejecting unobserved should the test fail before it is awaited.)
    const octoberAnswered = page.waitForResponse(octoberOnly).catch((e: Error) => e);
    const octoberAsked = page.waitForRequest(octoberOnly);
    await page.selectOption('[data-testid=month]', '2026-10');
    await octoberAsked;
    await page.selectOption('[data-testid=month]', '2026-11');
    await expect.poll(() => text(page, 'billable'), { timeout: 10_000 }).toBe(shown);
    release();
    await octoberAnswered;
    // Time for the late answer to be handled (and ignored).
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 200)));
    expect(await text(page, 'billable')).toBe(shown);
    expect(await page.locator('h2').first().innerText()).toBe('Daily seats in November 2026');
  });

  it('downloads the members CSV that the API streams', async () => {
    const page = await open(await link('pixel-apps'));
    await memberRows(page).first().waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('pixel-apps-2026-11-members.csv');
    const path = join(dir, 'download.csv');
    await download.saveAs(path);
    const rows = parse(readFileSync(path, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    const members = await api<MembersAnswer>('GET', '/v1/orgs/pixel-apps/usage/members');
    expect(rows.map((r) => r.id)).toEqual(members.members.map((m) => m.id));
    expect(Object.keys(rows[0] ?? {})).toContain('reason');
  });

  it('shows each invite decision: ok, warning, breach and blocked', async () => {
    await createOrg('invites', 'Invite Co', {
      plan: perLicensePlan({ licenses: 40, minimumLicenses: 0 }),
      fairUseCap: 100,
    });
    await api('POST', '/v1/orgs/invites/events', {
      events: Array.from({ length: 19 }, (_, i) => ({
        id: `e${i}`,
        member: `user-${i}`,
        source: 'app',
        occurredAt: new Date(NOW - 3_600_000).toISOString(),
      })),
    });
    const page = await open(await link('invites'));
    await page.getByRole('button', { name: 'Invite a user…' }).click();
    await page.getByLabel('E-mail').fill('new.person@invite.example');
    // Each check replaces the last answer: poll until the dialog shows the expected one.
    const decide = async (expected: RegExp) => {
      await page.getByRole('button', { name: 'Check seats' }).click();
      await expect.poll(() => text(page, 'decision'), { timeout: 10_000 }).toMatch(expected);
    };
    const { message } = await api<{ message: string }>('POST', '/v1/orgs/invites/invites/check', {
      email: 'x@invite.example',
    });
    await decide(/^Fine to invite Seats today: 19 → after this invite: 20 of 40 \(50 %\) /);
    expect(await text(page, 'decision')).toContain(message);
    await api('PATCH', '/v1/orgs/invites', { licenses: 21 });
    await decide(
      /^Warning: close to the allowance Seats today: 19 → after this invite: 20 of 21 \(95\.2 %\)/,
    );
    await api('PATCH', '/v1/orgs/invites', { licenses: 19 });
    await decide(/^This invite goes over the allowance .* 20 of 19/);
    await api('PATCH', '/v1/orgs/invites', { fairUseCap: 19 });
    await decide(/^Blocked: the fair-use cap is reached/);
    await page.screenshot({ path: join(SCREENSHOTS, 'invite-dialog.png') });
    // Escape closes the dialog.
    await page.keyboard.press('Escape');
    expect(await page.locator('dialog[open]').count()).toBe(0);
  });

  it('refuses an expired link and a link of another org', async () => {
    const url = new URL(await link('nordic-calls', 30));
    const foreign = await open(url.toString().replace('/orgs/nordic-calls', '/orgs/pixel-apps'));
    expect(await foreign.locator('body').innerText()).toBe('This link is not valid for this page.');
    const later = await serveOnSocket({ store, adminKey: ADMIN, now: () => NOW + 31_000 });
    try {
      const expired = await browser.newPage();
      const res = await expired.goto(`${later.base}${url.pathname}${url.search}`);
      expect(res?.status()).toBe(403);
      expect(await expired.locator('body').innerText()).toBe('This link has expired.');
    } finally {
      await later.close();
    }
  });

  it('shows the operator every org, worst first, each linking to its page', async () => {
    const page = await open(`${app.base}/dashboard/`);
    // A mistyped key brings the form back with the reason, also after a reload.
    await page.getByLabel('Operator key').fill('mistyped');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').innerText()).toBe('the API key is not valid');
    await page.reload();
    await page.getByLabel('Operator key').fill(ADMIN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-testid=orgs] tbody tr').first().waitFor();
    const orgs = await page
      .locator('[data-testid=orgs] tbody tr')
      .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-org')));
    const { orgs: listed } = await api<{
      orgs: Array<{
        id: string;
        usage: { state: string; allowance: number | null; projected: { value: number } };
      }>;
    }>('GET', '/v1/orgs');
    expect([...orgs].sort()).toEqual(listed.map((o) => o.id).sort());
    const rank = { capped: 0, over: 1, approaching: 2, ok: 3 } as Record<string, number>;
    const shown = orgs.map((id) => listed.find((o) => o.id === id) as (typeof listed)[number]);
    const states = shown.map((o) => o.usage.state);
    expect(states.map((s) => rank[s])).toEqual(states.map((s) => rank[s]).sort());
    // In one state, the furthest projected against its allowance first (no allowance last).
    const share = (o: (typeof shown)[number]) =>
      o.usage.allowance ? o.usage.projected.value / o.usage.allowance : -1;
    for (let i = 1; i < shown.length; i++) {
      const [a, b] = [shown[i - 1], shown[i]] as [(typeof shown)[number], (typeof shown)[number]];
      if (a.usage.state === b.usage.state) expect(share(a)).toBeGreaterThanOrEqual(share(b));
    }
    // The invite test left its org at the cap, so it leads; the call centre is over.
    expect(orgs.slice(0, 2)).toEqual(['invites', 'nordic-calls']);
    await page.screenshot({ path: join(SCREENSHOTS, 'operator-page.png') });
    await page.getByRole('link', { name: 'Pixel Apps Inc.' }).click();
    await page.waitForURL('**/dashboard/orgs/pixel-apps');
    await memberRows(page).first().waitFor();
    expect(await page.locator('h1').innerText()).toBe('Pixel Apps Inc.');
  });

  it('fits a phone screen and can be used with the keyboard alone', async () => {
    const page = await open(await link('pixel-apps'), 390);
    await memberRows(page).first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'org-page-phone.png') });
    // Tab from the top reaches the month picker, then the invite button; Enter opens the dialog.
    const reached: string[] = [];
    for (let i = 0; i < 4 && !reached.includes('Invite a user…'); i++) {
      await page.keyboard.press('Tab');
      reached.push(await page.evaluate(() => document.activeElement?.innerText ?? ''));
    }
    expect(reached.at(-1)).toBe('Invite a user…');
    await page.keyboard.press('Enter');
    await expectFocusInDialog(page);
  });

  it('shows a long members list a page at a time, with every filter choice from the first', async () => {
    await createOrg('big-calls', 'Big Calls', { plan: perLicensePlan({ licenses: 2000 }) });
    const ids = Array.from({ length: 1203 }, (_, i) => `m${String(i + 1).padStart(4, '0')}`);
    // Only the last member, on no page but the third, is in this team.
    await api('PUT', '/v1/orgs/big-calls/members/m1203', { teams: ['night-shift'] });
    const events = ids.map((member, i) => ({
      id: `e${i}`,
      member,
      source: 'calls',
      occurredAt: '2026-11-20T10:00:00Z',
    }));
    expect(await api('POST', '/v1/orgs/big-calls/events', { events })).toMatchObject({ accepted: 1203 });

    const page = await open(await link('big-calls'));
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid=members] tbody tr').length === 500,
    );
    expect(await text(page, 'members-totals')).toBe(
      '1203 listed, 1203 billable (showing 500; sorting applies to those shown)',
    );
    // "Show more" while a filter's first page is on its way: the next page is of the list shown,
    // and the filter's list replaces it when it comes.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route(/team=night-shift/, async (route) => {
      await held;
      await route.continue();
    });
    await page.selectOption('[data-testid=filter-team]', 'night-shift');
    await page.getByRole('button', { name: 'Show 500 more' }).click();
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid=members] tbody tr').length === 1000,
    );
    expect(await text(page, 'members-totals')).toBe(
      '1203 listed, 1203 billable (showing 1000; sorting applies to those shown)',
    );
    release();
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid=members] tbody tr').length === 1,
    );
    expect(await text(page, 'members-totals')).toBe('1 listed, 1 billable');
    await page.unroute(/team=night-shift/);
    await page.selectOption('[data-testid=filter-team]', '');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid=members] tbody tr').length === 500,
    );
    await page.getByRole('button', { name: 'Show 500 more' }).click();
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid=members] tbody tr').length === 1000,
    );
    await page.getByRole('button', { name: 'Show 203 more' }).click();
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid=members] tbody tr').length === 1203,
    );
    expect(await page.locator('[data-testid=members-more]').count()).toBe(0);
    expect(await text(page, 'members-totals')).toBe('1203 listed, 1203 billable');
    const shown = await memberRows(page).evaluateAll((trs) =>
      trs.map((tr) => tr.getAttribute('data-member')),
    );
    expect([...shown].sort()).toEqual(ids);

    await page.selectOption('[data-testid=filter-team]', 'night-shift');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid=members] tbody tr').length === 1,
    );
    expect(await memberRows(page).first().getAttribute('data-member')).toBe('m1203');
  });

  it('logged no console errors on any page', () => {
    // Pages that answer 403 by design, and the mistyped operator key's 401, log their status;
    // nothing else may.
    expect(consoleErrors.filter((e) => !/status of 40[13]/.test(e))).toEqual([]);
  });
});

async function expectFocusInDialog(page: Page) {
  await page.locator('dialog[open]').waitFor();
  expect(await page.evaluate(() => Boolean(document.activeElement?.closest('dialog')))).toBe(true);
}
