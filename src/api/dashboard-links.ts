import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed, short-lived dashboard links. A token names one org and an expiry and carries an
 * HMAC-SHA256 of both, so any server instance with the same secret can check it without shared
 * state, and a token for one org never opens another.
 */
const mac = (secret: string, payload: string) =>
  createHmac('sha256', secret).update(payload).digest('base64url');

export function signDashboardToken(secret: string, orgId: string, expiresAt: number): string {
  const payload = `${orgId}.${Math.floor(expiresAt / 1000)}`;
  return `${Buffer.from(payload).toString('base64url')}.${mac(secret, payload)}`;
}

export type TokenCheck =
  | { ok: true }
  | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' | 'other_org' };

/** The org a token names (not yet checked), or undefined when it is not a token. */
export function dashboardTokenOrg(token: string): string | undefined {
  const [encoded, signature] = token.split('.');
  if (!encoded || !signature) return undefined;
  const payload = Buffer.from(encoded, 'base64url').toString();
  const dot = payload.lastIndexOf('.');
  return dot > 0 ? payload.slice(0, dot) : undefined;
}

/** Checks a token for `orgId` at instant `now` (epoch ms). */
export function checkDashboardToken(secret: string, token: string, orgId: string, now: number): TokenCheck {
  const [encoded, signature] = token.split('.');
  if (!encoded || !signature) return { ok: false, reason: 'malformed' };
  const payload = Buffer.from(encoded, 'base64url').toString();
  const expected = Buffer.from(mac(secret, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, reason: 'bad_signature' };
  const dot = payload.lastIndexOf('.');
  const tokenOrg = payload.slice(0, dot);
  const expiresAt = Number(payload.slice(dot + 1)) * 1000;
  if (tokenOrg !== orgId) return { ok: false, reason: 'other_org' };
  if (!Number.isFinite(expiresAt) || now >= expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true };
}
