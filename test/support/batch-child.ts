/**
 * Another process writing to the same database: opens the store at URL, prints `ready`, ingests one
 * batch (a JSON array of events) into ORG at the instant NOW, prints the result as JSON and exits.
 */
import { validateBatch } from '../../src/ingest/validate-batch.js';
import { openStore } from '../../src/store/open-store.js';

const [url, orgId, events, now] = process.argv.slice(2);
if (!url || !orgId || !events || !now) throw new Error('usage: batch-child.ts URL ORG EVENTS_JSON NOW');
const store = openStore(url);
const org = await store.getOrg(orgId);
if (!org) throw new Error(`no org ${orgId}`);
const valid = validateBatch(JSON.parse(events), Number(now));
if (!valid.ok) throw new Error(JSON.stringify(valid.issues));
process.stdout.write('ready\n');
const result = await store.ingest(org, valid.events, Number(now));
process.stdout.write(`${JSON.stringify(result)}\n`);
await store.close();
