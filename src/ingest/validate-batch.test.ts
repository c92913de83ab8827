import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { epochDayOfDate } from '../core/calendar.js';
import { commonInstant, INSTANT_RE, MAX_BATCH, validateBatch } from './validate-batch.js';

const NOW = Date.parse('2026-09-15T10:00:00Z');

describe('validateBatch', () => {
  it('accepts a good batch and keeps instants exact', () => {
    const r = validateBatch(
      [
        {
          id: 'evt-1',
          member: 'curtis.miller',
          source: 'adversus_calls',
          occurredAt: '2019-10-21T09:30:00+02:00',
          project: 'sales',
        },
        { id: 'evt-2', source: 'marketing', occurredAt: '2026-09-15T10:04:59Z' },
      ],
      NOW,
    );
    expect(r).toEqual({
      ok: true,
      events: [
        {
          id: 'evt-1',
          member: 'curtis.miller',
          source: 'adversus_calls',
          at: Date.parse('2019-10-21T07:30:00Z'),
          project: 'sales',
        },
        {
          id: 'evt-2',
          member: undefined,
          source: 'marketing',
          at: Date.parse('2026-09-15T10:04:59Z'),
          project: undefined,
        },
      ],
    });
  });

  it('reports every bad event by index and field', () => {
    const r = validateBatch(
      [
        { id: 'ok', source: 's', occurredAt: '2026-09-01T10:00:00Z' },
        { id: '', source: 's', occurredAt: '2026-09-01T10:00:00' },
        { id: 'x', occurredAt: '2026-02-30T10:00:00Z' },
        { id: 'y', source: 's', occurredAt: '2026-09-15T10:05:01Z', member: 7 },
        'nope',
      ],
      NOW,
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => [i.index, i.field])).toEqual([
      [1, 'id'],
      [1, 'occurredAt'],
      [2, 'source'],
      [2, 'occurredAt'],
      [3, 'member'],
      [3, 'occurredAt'],
      [4, 'event'],
    ]);
  });

  it('refuses more than the batch limit and a non-array', () => {
    const many = Array.from({ length: MAX_BATCH + 1 }, (_, i) => ({
      id: `e${i}`,
      source: 's',
      occurredAt: '2026-09-01T10:00:00Z',
    }));
    expect(validateBatch(many, NOW)).toMatchObject({ ok: false, issues: [{ field: 'events' }] });
    expect(validateBatch({}, NOW)).toMatchObject({ ok: false, issues: [{ field: 'events' }] });
  });

  it('reads common instants by hand exactly as the regular checks and Date.parse do', () => {
    const pad = (n: number, width: number) => String(n).padStart(width, '0');
    const part = (max: number, width = 2) => fc.integer({ min: 0, max }).map((n) => pad(n, width));
    const instant = fc
      .record({
        year: fc.oneof(part(9999, 4), fc.constantFrom('2024', '2026', '2100', '1900', '0099', '0100')),
        month: part(13),
        day: part(32),
        t: fc.constantFrom('T', 't', ' '),
        hour: part(25),
        minute: part(61),
        second: fc.option(part(61), { nil: undefined }),
        fraction: fc.option(fc.stringMatching(/^\d{0,11}$/), { nil: undefined }),
        zone: fc.oneof(
          fc.constantFrom('Z', 'z', '', 'Zz'),
          fc
            .record({
              sign: fc.constantFrom('+', '-'),
              h: part(25),
              m: part(61),
              colon: fc.constantFrom(':', ''),
            })
            .map((z) => `${z.sign}${z.h}${z.colon}${z.m}`),
        ),
      })
      .map(
        (p) =>
          `${p.year}-${p.month}-${p.day}${p.t}${p.hour}:${p.minute}` +
          (p.second === undefined ? '' : `:${p.second}${p.fraction === undefined ? '' : `.${p.fraction}`}`) +
          p.zone,
      );
    let read = 0;
    fc.assert(
      fc.property(instant, (s) => {
        const fast = commonInstant(s);
        const regular =
          INSTANT_RE.test(s) && epochDayOfDate(s.slice(0, 10)) !== undefined && !Number.isNaN(Date.parse(s))
            ? Date.parse(s)
            : undefined;
        if (fast !== undefined) {
          read++;
          expect(fast).toBe(regular);
        }
        // What the hand reader leaves out still gets the regular checks' answer.
        const answer = validateBatch([{ id: 'e', source: 's', occurredAt: s }], Number.MAX_SAFE_INTEGER);
        expect(answer.ok ? answer.events[0]?.at : undefined).toBe(regular);
      }),
      { numRuns: 3000 },
    );
    expect(read).toBeGreaterThan(100);
  });

  it('refuses ids, members and sources holding a lone surrogate, which no database can store', () => {
    const r = validateBatch(
      [
        { id: 'a\ud800', source: 'calls', occurredAt: '2026-09-01T10:00:00Z' },
        { id: 'b', member: 'm\udc00', source: 'calls', occurredAt: '2026-09-01T10:00:00Z' },
        { id: 'c', member: 'emoji \ud83d\ude00', source: 'calls', occurredAt: '2026-09-01T10:00:00Z' },
      ],
      NOW,
    );
    expect(r).toEqual({
      ok: false,
      issues: [
        { index: 0, field: 'id', message: 'must be valid Unicode text (it holds a lone surrogate)' },
        { index: 1, field: 'member', message: 'must be valid Unicode text (it holds a lone surrogate)' },
      ],
    });
  });
});
