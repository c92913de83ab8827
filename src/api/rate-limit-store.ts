import { createHash } from 'node:crypto';
import type { Store } from '../store/store.js';
import { claimedOrg } from './auth.js';

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/**
 * A `@fastify/rate-limit` store whose counts live in the database, so every server instance on one
 * PostgreSQL draws on the same budget per key. Fixed windows: a key may make `max` requests per
 * window, whichever instances serve them. Keys are stored as hashes, under their org.
 */
export class DatabaseRateLimitStore {
  constructor(
    private readonly store: Store,
    private readonly timeWindow: number,
  ) {}

  incr(key: string, callback: Callback): void {
    const now = Date.now();
    const windowStart = now - (now % this.timeWindow);
    const bucket = createHash('sha256').update(key).digest('base64url');
    this.store
      .rateLimitHit(claimedOrg(key), bucket, windowStart)
      .then((current) => callback(null, { current, ttl: windowStart + this.timeWindow - now }))
      .catch((error: Error) => callback(error));
  }

  child(): DatabaseRateLimitStore {
    return this;
  }
}
