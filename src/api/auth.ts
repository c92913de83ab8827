import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ForbiddenError, NotFoundError, UnauthorizedError } from '../core/errors.js';
import type { Store, StoredApiKey } from '../store/store.js';
import { checkDashboardToken, dashboardTokenOrg } from './dashboard-links.js';

export type Scope = 'ingest' | 'read' | 'admin';
export const SCOPES: readonly Scope[] = ['ingest', 'read', 'admin'];

/** Who is calling: the operator (env `SEATMETER_ADMIN_KEY`) or an org key with scopes. */
export type Caller =
  | { readonly kind: 'operator' }
  | { readonly kind: 'org'; readonly orgId: string; readonly scopes: readonly Scope[] };

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

// Org keys read `sm_<org>.<keyId>.<secret>`: the org and key id locate the stored hash (keyed by
// org first, like every table); the secret is random, so a plain SHA-256 of it is a safe hash.
const KEY_RE = /^sm_([a-z0-9][a-z0-9_-]{0,62})\.([a-f0-9]{16})\.([A-Za-z0-9_-]{32,})$/;

/** A new org key: the full key (shown once) and what is stored of it. */
export function newApiKey(orgId: string, scopes: readonly Scope[]): { key: string; stored: StoredApiKey } {
  const keyId = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { key: `sm_${orgId}.${keyId}.${secret}`, stored: { keyId, secretHash: hashSecret(secret), scopes } };
}

/**
 * The org keys a server has read, by org and key id. A stored key never changes: no route or
 * command changes or deletes one, and an org is never deleted. So a key read once answers every
 * later request without the database, where each read is a transaction of its own (on SQLite,
 * 10 to 15 µs of lock system calls on every request with an org key: a tenth of an invite check).
 * The secret is still hashed and compared on every request; only found keys are kept, the `limit`
 * most recently used. Were keys ever revoked, this would need a lifetime, for instances on one
 * PostgreSQL do not see each other's memory.
 */
export class StoredKeys {
  private readonly keys = new Map<string, StoredApiKey>();

  constructor(
    private readonly store: Pick<Store, 'getApiKey'>,
    private readonly limit = 10_000,
  ) {}

  async get(orgId: string, keyId: string): Promise<StoredApiKey | undefined> {
    const id = `${orgId}.${keyId}`;
    const kept = this.keys.get(id);
    if (kept !== undefined) {
      // Moved to the end: the Map's order is the order of use, the least recent first.
      this.keys.delete(id);
      this.keys.set(id, kept);
      return kept;
    }
    const stored = await this.store.getApiKey(orgId, keyId);
    if (stored === undefined) return undefined;
    this.keys.set(id, stored);
    if (this.keys.size > this.limit) this.keys.delete(this.keys.keys().next().value as string);
    return stored;
  }
}

export interface Credentials {
  readonly adminKey: string | undefined;
  readonly keys: StoredKeys;
  /** Checks dashboard links; without it, link tokens are not accepted. */
  readonly linkSecret: string | undefined;
  readonly now: () => number;
}

/** The prefix of a dashboard link's token used as a key: the dashboard page reads with it. */
export const LINK_KEY_PREFIX = 'dash_';

const ORG_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

function bearerKey(authorization: string | undefined): string | undefined {
  return authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length).trim() : undefined;
}

/**
 * The org a key says it belongs to, before any check (org keys and dashboard tokens name one), or
 * `-`: for keying per-org state such as rate-limit counts, never for access.
 */
export function claimedOrg(authorization: string | undefined): string {
  const key = bearerKey(authorization) ?? '';
  const orgId =
    KEY_RE.exec(key)?.[1] ??
    (key.startsWith(LINK_KEY_PREFIX) ? dashboardTokenOrg(key.slice(LINK_KEY_PREFIX.length)) : undefined);
  return orgId !== undefined && ORG_ID.test(orgId) ? orgId : '-';
}

/**
 * The caller behind `Authorization: Bearer <key>`: the operator, an org key, or a dashboard link's
 * token (`dash_<token>`: read access to its one org until it expires). UnauthorizedError without a
 * valid key.
 */
export async function authenticate(request: FastifyRequest, credentials: Credentials): Promise<Caller> {
  const { adminKey, keys, linkSecret } = credentials;
  const key = bearerKey(request.headers.authorization);
  if (!key) throw new UnauthorizedError('send an API key as Authorization: Bearer <key>');
  if (adminKey !== undefined && adminKey.length > 0 && sameSecret(key, adminKey)) return { kind: 'operator' };
  if (key.startsWith(LINK_KEY_PREFIX) && linkSecret) {
    const token = key.slice(LINK_KEY_PREFIX.length);
    const orgId = dashboardTokenOrg(token);
    if (orgId !== undefined) {
      const check = checkDashboardToken(linkSecret, token, orgId, credentials.now());
      if (check.ok) return { kind: 'org', orgId, scopes: ['read'] };
      if (check.reason === 'expired') throw new UnauthorizedError('the dashboard link has expired');
    }
  }
  const m = KEY_RE.exec(key);
  if (m) {
    const [, orgId, keyId, secret] = m as unknown as [string, string, string, string];
    const stored = await keys.get(orgId, keyId);
    if (stored && sameSecret(hashSecret(secret), stored.secretHash)) {
      return { kind: 'org', orgId, scopes: stored.scopes as Scope[] };
    }
  }
  throw new UnauthorizedError('the API key is not valid');
}

/**
 * May this caller act on `orgId` with `scope`? The operator may do everything. An org key sees only
 * its own org: another org's resources answer 404, as if they did not exist; a missing scope is
 * 403; an `admin` key has every scope. `orgId` null marks an operator-only route.
 */
export function authorize(caller: Caller, orgId: string | null, scope: Scope): void {
  if (caller.kind === 'operator') return;
  if (orgId === null) throw new ForbiddenError('only the operator key may do this');
  if (caller.orgId !== orgId) throw new NotFoundError('org', orgId);
  // `admin` includes the other scopes: an admin key reads its org (and its webhook secret).
  if (!caller.scopes.includes(scope) && !caller.scopes.includes('admin')) {
    throw new ForbiddenError(`this key lacks the '${scope}' scope`);
  }
}
