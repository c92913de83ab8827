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

/** A token's parts: the signed payload `<org>.<expiry seconds>` and its signature. */
function parseToken(token: string) {
  const [encoded, signature] = token.split('.');
  if (!encoded || !signature) return undefined;
  const payload = Buffer.from(encoded, 'base64url').toString();
  const dot = payload.lastIndexOf('.');
  if (dot <= 0) return undefined;
  return {
    payload,
    signature,
    orgId: payload.slice(0, dot),
    expiresAt: Number(payload.slice(dot + 1)) * 1000,
  };
}

/** The org a token names (not yet checked), or undefined when it is not a token. */
export function dashboardTokenOrg(token: string): string | undefined {
  return parseToken(token)?.orgId;
}

/** Checks a token for `orgId` at instant `now` (epoch ms). */
export function checkDashboardToken(secret: string, token: string, orgId: string, now: number): TokenCheck {
  const parsed = parseToken(token);
  if (!parsed) return { ok: false, reason: 'malformed' };
  const expected = Buffer.from(mac(secret, parsed.payload));
  const given = Buffer.from(parsed.signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, reason: 'bad_signature' };
  if (parsed.orgId !== orgId) return { ok: false, reason: 'other_org' };
  if (!Number.isFinite(parsed.expiresAt) || now >= parsed.expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true };
}
