import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { monthCalendar } from '../src/core/calendar.js';
import { validateBatch } from '../src/ingest/validate-batch.js';
import { openStore } from '../src/store/open-store.js';
import { BATCH_SIZE, crashBatch, crashOrg } from './support/crash-data.js';

const dir = mkdtempSync(join(tmpdir(), 'seatmeter-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the ingesting child until it has acknowledged `acks` batches, then SIGKILLs it. */
function ingestThenKill(path: string, acks: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'support/ingest-child.ts'), path],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let last = -1;
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const n = Number(line.replace('ack ', ''));
      last = Math.max(last, n);
      if (last + 1 >= acks) child.kill('SIGKILL');
    });
    child.on('exit', (_code, signal) => {
      if (signal === 'SIGKILL') resolve(last);
      else reject(new Error(`child ended without being killed: ${stderr}`));
    });
  });
}

describe('crash safety on SQLite', () => {
  it('keeps every acknowledged batch after SIGKILL and counts nothing twice on re-send', async () => {
    const path = join(dir, 'crash.db');
    const lastAck = await ingestThenKill(path, 25);
    expect(lastAck).toBeGreaterThanOrEqual(24);

    const store = openStore(`sqlite:${path}`);
    await store.migrate();
    const calendar = monthCalendar('2026-09', 'UTC');
    const stored = async () =>
      (await store.activityRows(crashOrg.id, calendar)).reduce((s, r) => s + r.events, 0);
    const before = await stored();
    // Every acknowledged batch is there; the one in flight is there whole or not at all.
    expect([(lastAck + 1) * BATCH_SIZE, (lastAck + 2) * BATCH_SIZE]).toContain(before);

    const org = await store.getOrg(crashOrg.id);
    if (!org) throw new Error('org lost');
    for (let n = 0; n <= lastAck; n++) {
      const v = validateBatch(crashBatch(n), Date.now());
      if (!v.ok) throw new Error('bad batch');
      expect(await store.ingest(org, v.events, Date.now())).toEqual({
        accepted: 0,
        duplicates: BATCH_SIZE,
        late: 0,
      });
    }
    expect(await stored()).toBe(before);
    await store.close();
  });
});
