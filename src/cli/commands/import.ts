import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import { parse } from 'csv-parse';
import { evaluateAlerts } from '../../alerts/alerts-service.js';
import { type FieldIssue, NotFoundError, ValidationError } from '../../core/errors.js';
import { MAX_BATCH, type ValidEvent, validateBatch } from '../../ingest/validate-batch.js';
import { openStore } from '../../store/open-store.js';
import { dbOption } from '../db-option.js';
import { requireDatabase } from '../with-store.js';

type Format = 'ndjson' | 'csv';

/** A line of the file: its event, or why it is none (not JSON). */
interface FileLine {
  readonly event?: unknown;
  readonly notJson?: true;
  /** The file's line the event ends on, counted from 1. */
  readonly line: number;
  /** Bytes read so far, for the progress bar. */
  readonly bytes: number;
}

/**
 * Events of an NDJSON file (one JSON object a line) or a CSV file with a header row, streamed. A
 * byte-order mark (Excel's "CSV UTF-8") is skipped.
 */
async function* readLines(path: string, format: Format): AsyncGenerator<FileLine> {
  const input = createReadStream(path);
  if (format === 'csv') {
    const parser = input.pipe(
      parse({ columns: true, skip_empty_lines: true, trim: true, bom: true, info: true }),
    );
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number };
    }>) {
      // Empty cells are absent fields (a CSV cannot say null).
      const event = Object.fromEntries(Object.entries(record).filter(([, v]) => v !== ''));
      yield { event, line: info.lines, bytes: parser.info.bytes };
    }
    return;
  }
  let line = 0;
  let bytes = 0;
  for await (const raw of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    line++;
    bytes += Buffer.byteLength(raw) + 1;
    const text = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (text.trim() === '') continue;
    try {
      yield { event: JSON.parse(text), line, bytes };
    } catch {
      yield { notJson: true, line, bytes };
    }
  }
}

/**
 * The file's events in batches of at most 10,000, each checked whole as the API checks a batch:
 * `issues` name every bad event by its line (and lines that are not JSON), `events` are the valid
 * batch's.
 */
async function* checkedBatches(
  path: string,
  format: Format,
  now: number,
): AsyncGenerator<{ events: ValidEvent[]; issues: FieldIssue[]; lines: number; bytes: number }> {
  let batch: unknown[] = [];
  let lines: number[] = [];
  let notJson: FieldIssue[] = [];
  let bytes = 0;
  const check = () => {
    const valid = validateBatch(batch, now);
    const issues = valid.ok
      ? notJson
      : [
          ...notJson,
          ...valid.issues.map((i) => ({
            field: `line ${lines[i.index ?? 0]}: ${i.field}`,
            message: i.message,
          })),
        ];
    const out = { events: valid.ok ? valid.events : [], issues, lines: lines.length + notJson.length, bytes };
    batch = [];
    lines = [];
    notJson = [];
    return out;
  };
  for await (const read of readLines(path, format)) {
    bytes = read.bytes;
    if (read.notJson) notJson.push({ field: `line ${read.line}`, message: 'is not valid JSON' });
    else {
      batch.push(read.event);
      lines.push(read.line);
    }
    if (batch.length === MAX_BATCH) yield check();
  }
  if (batch.length > 0 || notJson.length > 0) yield check();
}

/** The first few issues in line order, and how many more: a failed import's one line. */
function issuesLine(issues: FieldIssue[]): string {
  const lineOf = (i: FieldIssue) => Number(/^line (\d+)/.exec(i.field)?.[1] ?? 0);
  const sorted = [...issues].sort((a, b) => lineOf(a) - lineOf(b));
  const shown = sorted.slice(0, 3).map((i) => `${i.field}: ${i.message}`);
  const more = issues.length > shown.length ? ` (and ${issues.length - shown.length} more)` : '';
  return `${shown.join('; ')}${more}`;
}

/**
 * `seatmeter import --org ORG FILE`: reads the file twice. First every event is checked, in batches
 * of 10,000 as the API checks a batch: one bad line anywhere and nothing is stored, and the error
 * names the bad lines. Then the events are stored, a batch of 10,000 at a time, each atomically
 * and durably. Importing the same file again is safe: event ids are deduplicated.
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
    .action(async (file: string, opts: { org: string; db: string; format?: Format }) => {
      const format = opts.format ?? (file.toLowerCase().endsWith('.csv') ? 'csv' : 'ndjson');
      const size = statSync(file).size;
      requireDatabase(opts.db);
      const store = openStore(opts.db);
      const bar = (phase: string) =>
        process.stderr.isTTY
          ? new SingleBar({ format: `${phase} [{bar}] {percentage}% | {events} events` })
          : undefined;
      const totals = { accepted: 0, duplicates: 0, late: 0 };
      let seen = 0;
      try {
        await store.migrate();
        const org = await store.getOrg(opts.org);
        if (!org) throw new NotFoundError('org', opts.org);
        // One moment for both passes: an event checked as not in the future is stored as such.
        const now = Date.now();

        const checking = bar('checking ');
        checking?.start(size, 0, { events: 0 });
        const issues: FieldIssue[] = [];
        for await (const checked of checkedBatches(file, format, now)) {
          issues.push(...checked.issues);
          seen += checked.lines;
          checking?.update(Math.min(size, checked.bytes), { events: seen });
        }
        checking?.stop();
        if (issues.length > 0) throw new ValidationError(issues, `nothing imported: ${issuesLine(issues)}`);

        const importing = bar('importing');
        importing?.start(size, 0, { events: 0 });
        seen = 0;
        try {
          for await (const { events, issues: changed, bytes } of checkedBatches(file, format, now)) {
            // The file changed since it was checked: stop rather than skip what no longer passes.
            if (changed.length > 0)
              throw new ValidationError(changed, `the file changed: ${issuesLine(changed)}`);
            const r = await store.ingest(org, events, now);
            totals.accepted += r.accepted;
            totals.duplicates += r.duplicates;
            totals.late += r.late;
            seen += events.length;
            importing?.update(Math.min(size, bytes), { events: seen });
          }
        } catch (error) {
          // Batches before the failure are stored: say so, and that trying again is safe.
          const stored = totals.accepted + totals.duplicates;
          const reason = error instanceof Error ? error.message : String(error);
          throw new Error(`${reason} (the first ${stored} events were stored; importing again is safe)`);
        } finally {
          importing?.stop();
        }
        // Alerts of the month in progress, once for the whole import; a running server's outbox
        // sends their deliveries.
        if (totals.accepted > 0) await evaluateAlerts(store, org, Date.now());
        console.log(
          `imported ${seen} events into ${org.id}: ${totals.accepted} accepted, ${totals.duplicates} duplicates, ${totals.late} late`,
        );
      } finally {
        await store.close();
      }
    });
