import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Org } from '../src/core/types.js';
import { createDemo } from '../src/demo/demo-data.js';
import { openStore } from '../src/store/open-store.js';
import type { Store } from '../src/store/store.js';
import { getUsage, membersUsage, projectsUsage } from '../src/usage/usage-service.js';

const NOW = Date.parse('2026-11-23T15:00:00Z');

describe('demo data', () => {
  let dir: string;
  let store: Store;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'seatmeter-demo-'));
    store = openStore(`sqlite:${join(dir, 'demo.db')}`);
    await store.migrate();
    expect(await createDemo(store, NOW)).toEqual(['nordic-calls', 'pixel-apps']);
  }, 120_000);
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a call centre whose peak passes its licences on some days', async () => {
    const org = await store.getOrg('nordic-calls');
    expect(org).toMatchObject({
      timezone: 'Europe/Copenhagen',
      counting: { presence: 'activity', aggregation: 'peak' },
    });
    if (!org) return;
    for (const month of ['2026-09', '2026-10', '2026-11']) {
      const u = await getUsage(store, org, month, NOW);
      const counts = u.days.map((d) => d.count);
      expect(Math.max(...counts)).toBeGreaterThan(80);
      expect(counts.filter((c) => c > 96).length).toBeGreaterThan(0);
      expect(counts.filter((c) => c > 96).length).toBeLessThan(10);
    }
    const listed = await membersUsage(store, org, '2026-10', NOW, { all: true });
    expect(listed.members.filter((m) => m.kind === 'person').length).toBe(122);
    expect(listed.members.find((m) => m.id === 'admin')).toMatchObject({
      billable: false,
      reason: 'no_activity',
    });
    expect(listed.members.find((m) => m.id === 'marketing_leads')).toMatchObject({
      kind: 'shared',
      billable: true,
    });
    expect(listed.members.filter((m) => m.reason === 'deactivated')).toHaveLength(1);
    expect(new Set(listed.members.flatMap((m) => Object.keys(m.sources)))).toEqual(
      new Set(['adversus_calls', 'adversus_sales', 'marketing_leads']),
    );
  });

  it('creates an app company near its tier with invites and revocations', async () => {
    const org = await store.getOrg('pixel-apps');
    expect(org).toMatchObject({
      counting: { presence: 'status', aggregation: 'average' },
      plan: { type: 'tiered' },
    });
    if (!org) return;
    const u = await getUsage(store, org, '2026-11', NOW);
    expect(u.projected.value).toBeGreaterThan(60);
    expect(u.projected.value).toBeLessThanOrEqual(100);
    const statuses = (await store.listMembers('pixel-apps')).map((m) => m.status);
    expect(statuses.length).toBe(95);
    for (const s of ['active', 'invited', 'revoked']) expect(statuses).toContain(s);
    expect((await projectsUsage(store, org, '2026-11', NOW)).projects).toHaveLength(4);
  });

  it('creates only the demo orgs whose ids are free, and nothing beside other orgs for serve --demo', async () => {
    expect(await createDemo(store, NOW)).toEqual([]);
    const other = openStore(`sqlite:${join(dir, 'other.db')}`);
    try {
      await other.migrate();
      await other.createOrg((await store.getOrg('nordic-calls')) as Org, NOW);
      expect(await createDemo(other, NOW, { onlyIntoEmpty: true })).toEqual([]);
      expect(await createDemo(other, NOW)).toEqual(['pixel-apps']);
      expect((await other.listOrgs()).map((o) => o.id)).toEqual(['nordic-calls', 'pixel-apps']);
    } finally {
      await other.close();
    }
  });
});
