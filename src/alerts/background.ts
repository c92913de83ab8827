import type { Store } from '../store/store.js';
import { closeDueMonths } from '../usage/statements.js';
import { evaluateAlerts } from './alerts-service.js';
import { createSender, type SenderOptions } from './channels.js';
import { Outbox, type RetryPolicy } from './outbox.js';

export interface BackgroundOptions extends SenderOptions {
  readonly store: Store;
  /** How often due months are closed (default every minute). */
  readonly closeEveryMs?: number;
  readonly retry?: Partial<RetryPolicy>;
  readonly pollMs?: number;
  /** How long an instance's claim on a delivery lasts (see `OutboxOptions.leaseMs`). */
  readonly leaseMs?: number;
  /**
   * The clock that decides which months are due for closing; the system clock by default. The
   * outbox always runs on the system clock: its retries must come due in real time.
   */
  readonly now?: () => number;
  readonly onError?: (error: unknown) => void;
}

/**
 * The work a server does besides answering requests: the outbox, automatic month closing, a round
 * of alert evaluation over every org, and dropping old rate-limit counts.
 */
export interface Background {
  readonly outbox: Outbox;
  /** Closes the months due now and raises the alerts due now; also run on a timer. */
  closeDue(): Promise<{ org: string; month: string }[]>;
  stop(): Promise<void>;
}

/**
 * Starts the outbox and the closing timer. Both keep their state in the database, so every instance
 * may run them: claims and the statements' unique key make each delivery and statement happen once.
 */
export function startBackground(options: BackgroundOptions): Background {
  const now = options.now ?? Date.now;
  // A send gives up well within its claim, so no other instance takes over a send still running.
  const sender = createSender({
    ...options,
    sendTimeoutMs: Math.min(options.sendTimeoutMs ?? 10_000, Math.floor((options.leaseMs ?? 60_000) / 3)),
  });
  const outbox = new Outbox({
    store: options.store,
    sender,
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.pollMs ? { pollMs: options.pollMs } : {}),
    ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  outbox.start();
  let closing: Promise<unknown> = Promise.resolve();
  const closeDue = () => {
    // One instance at a time closes months (a database lock); the others skip this round.
    const run = closing.then(async () => {
      let closed: { org: string; month: string }[] = [];
      await options.store.exclusively('seatmeter:auto-close', async () => {
        // Closing a month first puts in force its org's status changes that came due.
        closed = await closeDueMonths(options.store, now());
        // What time alone makes due, with no change to trigger it: status changes recorded ahead
        // whose moment has come, and alerts (days pass and the month's figures move under
        // `average`). One org failing is reported and does not stop the others.
        for (const org of await options.store.listOrgs()) {
          await options.store
            .settleStatuses(org.id, now())
            .then(() => evaluateAlerts(options.store, org, now()))
            .catch((error) => options.onError?.(error));
        }
        // Rate-limit counts of windows long gone (kept in the database when it is shared).
        await options.store.pruneRateLimits(Date.now() - 60_000);
      });
      return closed;
    });
    closing = run.catch((error) => options.onError?.(error));
    return run;
  };
  const timer = setInterval(() => void closeDue().catch(() => undefined), options.closeEveryMs ?? 60_000);
  timer.unref();
  void closeDue().catch(() => undefined);
  return {
    outbox,
    closeDue,
    async stop() {
      clearInterval(timer);
      await outbox.stop();
      await closing;
      sender.close();
    },
  };
}
