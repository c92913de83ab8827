import type { FastifyRequest } from 'fastify';
import type { Org } from '../core/types.js';
import type { OffThreadParser } from '../ingest/off-thread-parser.js';
import type { Store } from '../store/store.js';
import type { Caller, Scope } from './auth.js';

/** What every route needs: the store, the clock and access control. */
export interface ApiContext {
  readonly store: Store;
  /** The present instant (epoch ms); tests pass a fixed clock. */
  readonly now: () => number;
  /** Reads ingest bodies of `minBytes` or more on a worker thread; undefined: all on this one. */
  readonly offThread: { readonly parser: OffThreadParser; readonly minBytes: number } | undefined;
  /**
   * Authenticates the request and checks it may act on `orgId` (null: operator only) with `scope`.
   * Throws 401, 403 or 404 as SPEC.md section 6 says.
   */
  readonly access: (request: FastifyRequest, orgId: string | null, scope: Scope) => Promise<Caller>;
  /**
   * Called after a stored change that can move the org's alerts (events, status changes, invites,
   * plan changes): raises those now due. Never throws.
   */
  readonly changed: (org: Org) => Promise<void>;
  /** Whether webhook URLs may point at loopback or private networks. */
  readonly allowPrivateWebhooks: boolean;
  /** The org with this id, or NotFoundError. */
  readonly findOrg: (orgId: string) => Promise<Org>;
  /** Both at once: the caller may act on the org, and the org exists. */
  readonly orgFor: (
    request: FastifyRequest,
    orgId: string,
    scope: Scope,
  ) => Promise<{ org: Org; caller: Caller }>;
}
