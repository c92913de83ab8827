import type { ClaimedDelivery, Store } from '../store/store.js';
import type { Sender } from './channels.js';

export interface RetryPolicy {
  /** Wait after the first failure; doubled after each further one (default 30 s). */
  readonly baseMs: number;
  /** The longest wait between attempts (default 1 h). */
  readonly maxMs: number;
  /** Attempts before a delivery is given up as `failed` (default 8). */
  readonly maxAttempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 30_000, maxMs: 3_600_000, maxAttempts: 8 };

/** When a delivery that has failed `failures` times is tried again; null to give up. */
export function retryAt(policy: RetryPolicy, failures: number, now: number): number | null {
  if (failures >= policy.maxAttempts) return null;
  return now + Math.min(policy.maxMs, policy.baseMs * 2 ** (failures - 1));
}

export interface OutboxOptions {
  readonly store: Store;
  readonly sender: Sender;
  readonly retry?: Partial<RetryPolicy>;
  /** How often the outbox looks for due deliveries (default 1 s). */
  readonly pollMs?: number;
  /**
   * How long a claim keeps other instances off a delivery (default 60 s, well above a send). A
   * delivery claimed by an instance that dies is sent by another once the claim runs out; if the
   * dead one had sent it already, that is a second copy with the same delivery id (at least once).
   */
  readonly leaseMs?: number;
  /** Deliveries claimed at a time (default 20). */
  readonly batch?: number;
  /** The outbox's own clock (real time: retries must come due). */
  readonly now?: () => number;
  /** Told about failures of the outbox itself (a database error), not of deliveries. */
  readonly onError?: (error: unknown) => void;
}

/**
 * Sends the deliveries of raised alerts. Everything lives in the database: any instance may send
 * any delivery, a claim keeps the others off it, each attempt is recorded, failures come due again
 * with exponential backoff, and a delivery pending when an instance stops is sent by the next one
 * that runs.
 */
export class Outbox {
  private readonly retry: RetryPolicy;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly options: OutboxOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.now = options.now ?? Date.now;
  }

  /** Starts polling, and sends what is already due. */
  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.options.pollMs ?? 1_000);
    this.timer.unref();
    this.kick();
  }

  /** Looks for due deliveries now (after an alert was raised), without waiting for the poll. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error) => {
        this.options.onError?.(error);
        return 0;
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Sends every delivery due now, a batch at a time; answers how many were attempted. */
  async drain(): Promise<number> {
    let attempted = 0;
    for (;;) {
      if (this.stopped) return attempted;
      const claimed = await this.options.store.claimDeliveries(
        this.now(),
        this.options.leaseMs ?? 60_000,
        this.options.batch ?? 20,
      );
      if (claimed.length === 0) return attempted;
      await Promise.all(claimed.map((delivery) => this.attempt(delivery)));
      attempted += claimed.length;
    }
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const { store, sender } = this.options;
    let error: string | null = null;
    try {
      const org = await store.getOrg(delivery.orgId);
      if (!org) throw new Error(`org ${delivery.orgId} no longer exists`);
      await sender.send(delivery, org);
    } catch (e) {
      error = failureText(e);
    }
    const at = this.now();
    await store.finishDelivery(delivery, {
      at,
      ok: error === null,
      error,
      retryAt: error === null ? null : retryAt(this.retry, delivery.attempts + 1, at),
    });
  }

  /** Stops polling and waits for the sends in flight; what is still due is left for a next run. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}

/**
 * What a failed attempt logs: the error and what caused it, so "fetch failed" says why (a refused
 * connection, a name that does not resolve, a timeout).
 */
export function failureText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause as { message?: unknown; code?: unknown } | undefined;
  const why = typeof cause?.message === 'string' && cause.message !== '' ? cause.message : cause?.code;
  return why === undefined || why === null || why === e.message ? e.message : `${e.message}: ${String(why)}`;
}
