import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { UnauthorizedError } from '../core/errors.js';

/** Who is calling. Org keys with scopes arrive with the keys work; today only the operator. */
export type Caller = { readonly kind: 'operator' };

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The caller behind `Authorization: Bearer <key>`; UnauthorizedError without a valid key. */
export function authenticate(request: FastifyRequest, adminKey: string | undefined): Caller {
  const header = request.headers.authorization;
  const key = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
  if (!key) throw new UnauthorizedError('send an API key as Authorization: Bearer <key>');
  if (adminKey !== undefined && adminKey.length > 0 && sameSecret(key, adminKey)) return { kind: 'operator' };
  throw new UnauthorizedError('the API key is not valid');
}
