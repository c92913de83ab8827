import { epochDayOfDate } from '../core/calendar.js';
import type { FieldIssue } from '../core/errors.js';

/** An activity event that passed validation. */
export interface ValidEvent {
  readonly id: string;
  /** Member id, or the externalId of an alias of `source`; absent: the source's shared member. */
  readonly member: string | undefined;
  readonly source: string;
  /** Epoch ms. */
  readonly at: number;
  readonly project: string | undefined;
}

export const MAX_BATCH = 10_000;
/** How far in the future an event may lie. */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;
const MAX_ID = 200;
// ISO 8601 date-time that carries `Z` or an offset; seconds and fractions optional.
const INSTANT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

export type BatchResult = { ok: true; events: ValidEvent[] } | { ok: false; issues: FieldIssue[] };

/**
 * Validates a whole ingest batch: every bad field of every event is reported by index, and the batch
 * is accepted only when none is bad.
 *
 * @example
 * validateBatch([{ id: 'e1', source: 'calls', occurredAt: '2026-09-01T10:00:00' }], now)
 * // { ok: false, issues: [{ index: 0, field: 'occurredAt', message: 'must carry Z or an offset...' }] }
 */
export function validateBatch(events: unknown, now: number): BatchResult {
  if (!Array.isArray(events))
    return { ok: false, issues: [{ field: 'events', message: 'must be an array' }] };
  if (events.length > MAX_BATCH) {
    return { ok: false, issues: [{ field: 'events', message: `at most ${MAX_BATCH} events per batch` }] };
  }
  const issues: FieldIssue[] = [];
  const valid: ValidEvent[] = new Array(events.length);
  // Per call, not per event (ingest runs this for every event it takes): a batch's events share a
  // few dates, each checked against the calendar once.
  const realDates = new Map<string, boolean>();
  for (let index = 0; index < events.length; index++) {
    const raw: unknown = events[index];
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      issues.push({ index, field: 'event', message: 'must be an object' });
      continue;
    }
    const e = raw as Record<string, unknown>;
    const before = issues.length;
    const id = text(e, 'id', true, index, issues);
    const member = text(e, 'member', false, index, issues);
    const source = text(e, 'source', true, index, issues);
    const project = text(e, 'project', false, index, issues);
    const at = instant(e.occurredAt, now, realDates, index, issues);
    if (issues.length === before) {
      valid[index] = { id: id as string, member, source: source as string, at: at as number, project };
    }
  }
  return issues.length === 0 ? { ok: true, events: valid } : { ok: false, issues };
}

/** A string field: absent (or null) is allowed unless required; else 1 to 200 characters. */
function text(
  e: Record<string, unknown>,
  field: string,
  required: boolean,
  index: number,
  issues: FieldIssue[],
): string | undefined {
  const v = e[field];
  if (typeof v === 'string' && v.length > 0 && v.length <= MAX_ID) return v;
  if (v === undefined || v === null) {
    if (required) issues.push({ index, field, message: 'is required' });
    return undefined;
  }
  issues.push({ index, field, message: `must be a non-empty string of at most ${MAX_ID} characters` });
  return undefined;
}

/** `occurredAt`: an ISO 8601 instant with `Z` or an offset, a real date, not in the future. */
function instant(
  v: unknown,
  now: number,
  realDates: Map<string, boolean>,
  index: number,
  issues: FieldIssue[],
): number | undefined {
  const bad = (message: string) => {
    issues.push({ index, field: 'occurredAt', message });
    return undefined;
  };
  if (typeof v !== 'string') return bad('is required: an ISO 8601 instant with Z or an offset');
  if (!INSTANT_RE.test(v)) return bad('must be an ISO 8601 instant with Z or an offset');
  const at = Date.parse(v);
  const date = v.slice(0, 10);
  let real = realDates.get(date);
  if (real === undefined) {
    real = epochDayOfDate(date) !== undefined;
    realDates.set(date, real);
  }
  if (Number.isNaN(at) || !real) return bad('is not a real date and time');
  if (at > now + FUTURE_TOLERANCE_MS) return bad('lies more than 5 minutes in the future');
  return at;
}
