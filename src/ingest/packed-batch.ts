import secureJson from 'secure-json-parse';
import type { FieldIssue } from '../core/errors.js';
import { type BatchResult, type ValidEvent, validateBatch } from './validate-batch.js';

/**
 * An ingest request body read and validated off the main thread (`OffThreadParser`), in a form
 * that crosses threads cheaply: the events' ids in one string, the members, sources and projects
 * as indexes into the batch's distinct strings, the instants in a typed array. For a body of 1,000
 * events (about 100 KB), receiving and rebuilding them took the main thread 35 to 120 µs here,
 * against about 1 ms for `JSON.parse` and validation (BENCHMARKS.md, tenth session).
 *
 * `other`: the body is not JSON, holds a `__proto__` or `constructor` key, or is not an object with
 * an `events` array. The main thread then reads it the usual way, so that its errors are the usual
 * ones.
 */
export type PackedBody =
  | {
      readonly kind: 'events';
      /** Every event's id, one after the other. */
      readonly ids: string;
      /** Where each event's id ends in `ids`. */
      readonly idEnds: Uint32Array;
      /** The batch's distinct members, sources and projects. */
      readonly strings: readonly string[];
      /** Per event: its member, source and project as indexes into `strings`; -1: absent. */
      readonly refs: Int32Array;
      /** Per event: its instant, epoch ms. */
      readonly at: Float64Array;
    }
  | { readonly kind: 'issues'; readonly issues: FieldIssue[] }
  | { readonly kind: 'other' };

const OTHER: PackedBody = { kind: 'other' };

/**
 * Reads an ingest request's body as `POST /v1/orgs/{org}/events` does (UTF-8, JSON, `events` an
 * array, `validateBatch` at `now`) and packs the result.
 */
export function readPackedBody(bytes: Uint8Array, now: number): PackedBody {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  let body: unknown;
  try {
    // As Fastify's JSON parser does: a leading byte order mark skipped, and `__proto__` and
    // `constructor` keys refused, however their names are escaped.
    body = secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch {
    return OTHER;
  }
  const events =
    typeof body === 'object' && body !== null ? (body as { events?: unknown }).events : undefined;
  if (!Array.isArray(events)) return OTHER;
  const batch = validateBatch(events, now);
  return batch.ok ? pack(batch.events) : { kind: 'issues', issues: batch.issues };
}

/** The typed arrays of a packed body, to transfer rather than copy. */
export function transferables(packed: PackedBody): ArrayBuffer[] {
  return packed.kind === 'events'
    ? ([packed.idEnds.buffer, packed.refs.buffer, packed.at.buffer] as ArrayBuffer[])
    : [];
}

export function pack(events: readonly ValidEvent[]): PackedBody {
  const n = events.length;
  const idEnds = new Uint32Array(n);
  const refs = new Int32Array(3 * n);
  const at = new Float64Array(n);
  const strings: string[] = [];
  const indexes = new Map<string, number>();
  const ref = (s: string | undefined): number => {
    if (s === undefined) return -1;
    let i = indexes.get(s);
    if (i === undefined) {
      i = strings.push(s) - 1;
      indexes.set(s, i);
    }
    return i;
  };
  const ids: string[] = new Array(n);
  let end = 0;
  for (let i = 0; i < n; i++) {
    const e = events[i] as ValidEvent;
    ids[i] = e.id;
    end += e.id.length;
    idEnds[i] = end;
    refs[3 * i] = ref(e.member);
    refs[3 * i + 1] = ref(e.source);
    refs[3 * i + 2] = ref(e.project);
    at[i] = e.at;
  }
  return { kind: 'events', ids: ids.join(''), idEnds, strings, refs, at };
}

/** The validation result a packed body stands for; undefined for `other`. */
export function unpack(packed: PackedBody): BatchResult | undefined {
  if (packed.kind === 'other') return undefined;
  if (packed.kind === 'issues') return { ok: false, issues: packed.issues };
  const { ids, idEnds, strings, refs, at } = packed;
  const n = idEnds.length;
  const events: ValidEvent[] = new Array(n);
  let start = 0;
  for (let i = 0; i < n; i++) {
    const end = idEnds[i] as number;
    const member = refs[3 * i] as number;
    const project = refs[3 * i + 2] as number;
    events[i] = {
      id: ids.substring(start, end),
      member: member < 0 ? undefined : strings[member],
      source: strings[refs[3 * i + 1] as number] as string,
      at: at[i] as number,
      project: project < 0 ? undefined : strings[project],
    };
    start = end;
  }
  return { ok: true, events };
}
