/**
 * A child process for the crash test: ingests numbered batches of 1,000 events into a SQLite store
 * and prints `ack N` once batch N's ingest call has returned, until it is killed.
 */
import type { Org } from '../../src/core/types.js';
import { validateBatch } from '../../src/ingest/validate-batch.js';
import { openStore } from '../../src/store/open-store.js';
import { crashBatch, crashOrg } from './crash-data.js';

const [path] = process.argv.slice(2);
if (!path) throw new Error('usage: ingest-child.ts DB_PATH');
const store = openStore(`sqlite:${path}`);
await store.migrate();
const org: Org = (await store.getOrg(crashOrg.id)) ?? (await store.createOrg(crashOrg, Date.now()));
for (let n = 0; ; n++) {
  const valid = validateBatch(crashBatch(n), Date.now());
  if (!valid.ok) throw new Error('bad batch');
  await store.ingest(org, valid.events, Date.now());
  process.stdout.write(`ack ${n}\n`);
}
