import type { AlertView } from '../../src/alerts/alerts-service.js';
import type { Banner } from '../../src/core/alerts.js';
import type { InviteCheck } from '../../src/core/invite.js';
import type { Plan } from '../../src/core/plans.js';
import type { UsageState } from '../../src/core/usage-state.js';
import type { MembersList, ProjectUsage, Usage } from '../../src/usage/usage-service.js';

export type { InviteCheck, MembersList, Plan, ProjectUsage, Usage, UsageState };

/** An org as `GET /v1/orgs/{org}` shows it. */
export interface OrgView {
  id: string;
  name: string;
  timezone: string;
  counting: Usage['counting'];
  plan: Plan;
  fairUseCap: number | null;
  billingEmails: string[];
  createdAt: string;
}

export interface OrgListEntry extends OrgView {
  usage: {
    billable: Usage['billable'];
    projected: Usage['projected'];
    allowance: number | null;
    state: UsageState;
  };
}

export interface AlertsAnswer {
  alerts: AlertView[];
  banner: Banner | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const KEY_STORAGE = 'seatmeter.operatorKey';

/**
 * How the page speaks to the API: with the dashboard link's token (one org, read only) or with the
 * operator key the operator typed in, kept for the browser tab only.
 */
export interface Session {
  readonly authorization: string;
  readonly kind: 'link' | 'operator';
}

export function sessionFromPage(): Session | null {
  const token = new URLSearchParams(location.search).get('token');
  if (token) return { authorization: `Bearer dash_${token}`, kind: 'link' };
  const key = sessionStorage.getItem(KEY_STORAGE);
  return key ? { authorization: `Bearer ${key}`, kind: 'operator' } : null;
}

export function rememberOperatorKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(KEY_STORAGE);
  else sessionStorage.setItem(KEY_STORAGE, key);
}

async function call(session: Session, path: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(path, {
    ...init,
    headers: { authorization: session.authorization, ...(init.headers ?? {}) },
  });
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { error?: { message?: string } };
      if (body.error?.message) message = body.error.message;
    } catch {
      // not JSON: keep the status line
    }
    // A typed operator key the API refuses is forgotten: the next load asks for it again.
    if (session.kind === 'operator' && (res.status === 401 || res.status === 403)) rememberOperatorKey(null);
    throw new ApiError(res.status, message);
  }
  return res;
}

/**
 * For an effect that loads data: hands the answer (or its error) on unless the effect was cleaned
 * up first, because the month or a filter changed meanwhile. A slow answer for an earlier choice
 * then never replaces the answer for the latest one. Returns the effect's cleanup.
 *
 * @example
 *   useEffect(() => latest(getJson<Usage>(session, url), setUsage, (e) => setError(e.message)), [url]);
 */
export function latest<T>(
  load: Promise<T>,
  use: (value: T) => void,
  fail: (error: Error) => void,
): () => void {
  let current = true;
  load.then(
    (value) => {
      if (current) use(value);
    },
    (error: Error) => {
      if (current) fail(error);
    },
  );
  return () => {
    current = false;
  };
}

export async function getJson<T>(session: Session, path: string): Promise<T> {
  return (await (await call(session, path)).json()) as T;
}

export async function postJson<T>(session: Session, path: string, body: unknown): Promise<T> {
  const res = await call(session, path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await res.json()) as T;
}

/** Downloads a CSV answer as a file (a link cannot carry the Authorization header). */
export async function downloadCsv(session: Session, path: string, filename: string): Promise<void> {
  const blob = await (await call(session, path, { headers: { accept: 'text/csv' } })).blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export const orgPath = (org: string) => `/v1/orgs/${encodeURIComponent(org)}`;

export function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
