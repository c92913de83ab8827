import { createHash } from 'node:crypto';
import type { Store } from '../store/store.js';
import { LINK_KEY_PREFIX } from './auth.js';
import { dashboardTokenOrg } from './dashboard-links.js';

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/** The org a bearer key belongs to (org keys and dashboard tokens name it), else `-`. */
export function orgOfKey(authorization: string | undefined): string {
  const key = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : '';
  const orgKey = /^sm_([a-z0-9][a-z0-9_-]{0,62})\./.exec(key);
  if (orgKey?.[1]) return orgKey[1];
  if (key.startsWith(LINK_KEY_PREFIX)) return dashboardTokenOrg(key.slice(LINK_KEY_PREFIX.length)) ?? '-';
  return '-';
}

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
      .rateLimitHit(orgOfKey(key), bucket, windowStart)
      .then((current) => callback(null, { current, ttl: windowStart + this.timeWindow - now }))
      .catch((error: Error) => callback(error));
  }

  child(): DatabaseRateLimitStore {
    return this;
  }
}
