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
  const valid: ValidEvent[] = [];
  events.forEach((raw: unknown, index) => {
    const bad = (field: string, message: string) => issues.push({ index, field, message });
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      bad('event', 'must be an object');
      return;
    }
    const e = raw as Record<string, unknown>;
    const text = (field: string, required: boolean): string | undefined => {
      const v = e[field];
      if (v === undefined || v === null) {
        if (required) bad(field, 'is required');
        return undefined;
      }
      if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ID) {
        bad(field, `must be a non-empty string of at most ${MAX_ID} characters`);
        return undefined;
      }
      return v;
    };
    const id = text('id', true);
    const member = text('member', false);
    const source = text('source', true);
    const project = text('project', false);
    let at: number | undefined;
    const occurredAt = e.occurredAt;
    if (typeof occurredAt !== 'string')
      bad('occurredAt', 'is required: an ISO 8601 instant with Z or an offset');
    else if (!INSTANT_RE.test(occurredAt))
      bad('occurredAt', 'must be an ISO 8601 instant with Z or an offset');
    else {
      at = Date.parse(occurredAt);
      if (Number.isNaN(at) || epochDayOfDate(occurredAt.slice(0, 10)) === undefined)
        bad('occurredAt', 'is not a real date and time');
      else if (at > now + FUTURE_TOLERANCE_MS) bad('occurredAt', 'lies more than 5 minutes in the future');
    }
    if (issues.length === 0 && id !== undefined && source !== undefined && at !== undefined) {
      valid.push({ id, member, source, at, project });
    }
  });
  return issues.length === 0 ? { ok: true, events: valid } : { ok: false, issues };
}
