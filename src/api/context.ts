import type { FastifyRequest } from 'fastify';
import type { Org } from '../core/types.js';
import type { Store } from '../store/store.js';
import type { Caller } from './auth.js';

/** What every route needs: the store, the clock and the caller. */
export interface ApiContext {
  readonly store: Store;
  /** The present instant (epoch ms); tests pass a fixed clock. */
  readonly now: () => number;
  readonly authenticate: (request: FastifyRequest) => Caller;
  /** The org with this id, or NotFoundError. */
  readonly findOrg: (orgId: string) => Promise<Org>;
}
