import { type ResourceLimits, Worker } from 'node:worker_threads';
import { type PackedBody, unpack } from './packed-batch.js';
import type { BatchResult } from './validate-batch.js';

/**
 * Parses and validates ingest request bodies on a worker thread, so that the main thread, which
 * writes to the database and answers requests, spends on a 1,000-event batch the cost of taking
 * its packed events (tens of µs) instead of `JSON.parse` and validation (1 to 2 ms). One worker:
 * the main thread's other work per batch takes longer than the parse, so one keeps up with it.
 *
 * `parse` answers undefined when the body is not a JSON object with an `events` array (the
 * caller reads it the usual way, for the usual errors) and when the worker failed (it is started
 * again for the next body).
 *
 * @example
 *   const parser = new OffThreadParser();
 *   const batch = await parser.parse(body, Date.now()); // { ok: true, events } | { ok: false, issues } | undefined
 *   await parser.close();
 */
export class OffThreadParser {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, (packed: PackedBody) => void>();
  private nextId = 0;
  /** Workers lost in a row before answering anything; at `GIVE_UP`, every body is read inline. */
  private lostInARow = 0;
  /** How many bodies the worker has answered. */
  answered = 0;

  /**
   * `onError` is told when a worker is lost, and when the parser gives up on workers;
   * `resourceLimits` bound the worker's heap (see `node:worker_threads`; by default
   * `WORKER_LIMITS`).
   */
  constructor(
    private readonly options: {
      readonly onError?: (error: Error) => void;
      readonly resourceLimits?: ResourceLimits;
    } = {},
  ) {}

  /** Never rejects: whatever goes wrong with the worker, the body is left to the caller (undefined). */
  async parse(bytes: Uint8Array, now: number): Promise<BatchResult | undefined> {
    if (this.lostInARow >= GIVE_UP) return undefined;
    let worker: Worker;
    try {
      worker = this.started();
    } catch (error) {
      this.lose(undefined, error);
      return undefined;
    }
    const id = this.nextId++;
    const packed = await new Promise<PackedBody>((resolve) => {
      this.pending.set(id, resolve);
      try {
        worker.ref();
        worker.postMessage({ id, bytes, now });
      } catch (error) {
        this.lose(worker, error);
      }
    });
    return unpack(packed);
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.failPending();
    await worker?.terminate();
  }

  private started(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = startWorker(this.options.resourceLimits ?? WORKER_LIMITS);
    // An idle worker does not keep the process alive; one with a body to answer does (`ref`).
    worker.unref();
    worker.on('message', (message: { id: number; packed: PackedBody }) => {
      this.lostInARow = 0;
      this.answered++;
      this.pending.get(message.id)?.(message.packed);
      this.pending.delete(message.id);
      if (this.pending.size === 0) worker.unref();
    });
    worker.on('error', (error) => this.lose(worker, error));
    worker.on('exit', (code) => this.lose(worker, new Error(`it exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  /** The worker (undefined: one that could not start) failed; once per worker, not after `close`. */
  private lose(worker: Worker | undefined, error: unknown): void {
    if (worker !== undefined && this.worker !== worker) return;
    this.worker = undefined;
    this.lostInARow++;
    this.failPending();
    const reason = error instanceof Error ? error.message : String(error);
    const next =
      this.lostInARow >= GIVE_UP
        ? 'every ingest body is read on the main thread from now on'
        : 'it is started again for the next body';
    this.options.onError?.(
      new Error(`the worker thread that parses ingest bodies failed (${reason}); ${next}`),
    );
  }

  /** Every body still waiting is read on the main thread instead. */
  private failPending(): void {
    for (const resolve of this.pending.values()) resolve({ kind: 'other' });
    this.pending.clear();
  }
}

const GIVE_UP = 3;

/**
 * The worker holds one body at a time, so a young generation of 8 MB serves it; with V8's
 * defaults its semi-spaces grew to 32 MB. Under 10,000,000 events over HTTP the server's peak RSS
 * had a median of 296 MiB in nine runs with this bound (290 to 330), against 333 MiB in seven
 * without (324 to 368), at the same rate (BENCHMARKS.md, twelfth session). The old generation is
 * left unbounded: the largest body must still parse.
 */
const WORKER_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 8 };

/**
 * The worker, from `parse-worker.js` next to this file; from the TypeScript sources (the tests),
 * through tsx's loader, which worker threads do not take from the parent's `--import`.
 */
function startWorker(resourceLimits: ResourceLimits): Worker {
  const entry = new URL(`./parse-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);
  const limits = { resourceLimits };
  if (entry.pathname.endsWith('.js')) return new Worker(entry, limits);
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(
    `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(entry.href)}); })`,
    { eval: true, ...limits },
  );
}
