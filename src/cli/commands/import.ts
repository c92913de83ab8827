import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import { parse } from 'csv-parse';
import { evaluateAlerts } from '../../alerts/alerts-service.js';
import { NotFoundError, ValidationError } from '../../core/errors.js';
import { MAX_BATCH, validateBatch } from '../../ingest/validate-batch.js';
import { openStore } from '../../store/open-store.js';
import { dbOption } from '../db-option.js';

/** Events of an NDJSON file (one JSON object a line) or a CSV file with a header row, streamed. */
async function* readEvents(
  path: string,
  format: 'ndjson' | 'csv',
): AsyncGenerator<{ event: unknown; line: number; bytes: number }> {
  const input = createReadStream(path);
  if (format === 'csv') {
    const parser = input.pipe(parse({ columns: true, skip_empty_lines: true, trim: true }));
    for await (const row of parser as AsyncIterable<Record<string, string>>) {
      // Empty cells are absent fields (a CSV cannot say null).
      const event = Object.fromEntries(Object.entries(row).filter(([, v]) => v !== ''));
      yield { event, line: parser.info.lines, bytes: parser.info.bytes };
    }
    return;
  }
  let line = 0;
  let bytes = 0;
  for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    line++;
    bytes += Buffer.byteLength(text) + 1;
    if (text.trim() === '') continue;
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch {
      throw new ValidationError([{ field: `line ${line}`, message: 'is not valid JSON' }]);
    }
    yield { event, line, bytes };
  }
}

/**
 * `seatmeter import --org ORG FILE`: streams events into the store in batches of 10,000. Each batch
 * is validated whole and stored atomically; a bad event stops the import at its batch, naming its
 * line, and importing the same file again is safe because event ids are deduplicated.
 */
export const importCommand = (): Command =>
  new Command('import')
    .description('import activity events from an NDJSON or CSV file')
    .requiredOption('--org <org>', 'org id')
    .addOption(
      new Option('--format <format>', 'file format (default: from the file name)').choices(['ndjson', 'csv']),
    )
    .addOption(dbOption())
    .argument('<file>', 'FILE.ndjson or FILE.csv')
    .action(async (file: string, opts: { org: string; db: string; format?: 'ndjson' | 'csv' }) => {
      const format = opts.format ?? (file.toLowerCase().endsWith('.csv') ? 'csv' : 'ndjson');
      const size = statSync(file).size;
      const store = openStore(opts.db);
      const bar = process.stderr.isTTY
        ? new SingleBar({ format: 'importing [{bar}] {percentage}% | {events} events' })
        : undefined;
      const totals = { accepted: 0, duplicates: 0, late: 0 };
      try {
        await store.migrate();
        const org = await store.getOrg(opts.org);
        if (!org) throw new NotFoundError('org', opts.org);
        bar?.start(size, 0, { events: 0 });
        let batch: unknown[] = [];
        let lines: number[] = [];
        let seen = 0;
        const flush = async () => {
          const valid = validateBatch(batch, Date.now());
          if (!valid.ok) {
            throw new ValidationError(
              valid.issues.map((i) => ({ ...i, field: `line ${lines[i.index ?? 0]}: ${i.field}` })),
            );
          }
          const r = await store.ingest(org, valid.events, Date.now());
          totals.accepted += r.accepted;
          totals.duplicates += r.duplicates;
          totals.late += r.late;
          batch = [];
          lines = [];
        };
        for await (const { event, line, bytes } of readEvents(file, format)) {
          batch.push(event);
          lines.push(line);
          seen++;
          if (batch.length === MAX_BATCH) {
            await flush();
            bar?.update(Math.min(size, bytes), { events: seen });
          }
        }
        if (batch.length > 0) await flush();
        bar?.update(size, { events: seen });
        bar?.stop();
        // Alerts of the month in progress, once for the whole import; a running server's outbox
        // sends their deliveries.
        if (totals.accepted > 0) await evaluateAlerts(store, org, Date.now());
        console.log(
          `imported ${seen} events into ${org.id}: ${totals.accepted} accepted, ${totals.duplicates} duplicates, ${totals.late} late`,
        );
      } finally {
        bar?.stop();
        await store.close();
      }
    });
