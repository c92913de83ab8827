import { describe, expect, it } from 'vitest';
import { MAX_BATCH, validateBatch } from './validate-batch.js';

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
});
