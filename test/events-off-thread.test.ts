import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../src/api/server.js';
import { OffThreadParser } from '../src/ingest/off-thread-parser.js';
import { pack, unpack } from '../src/ingest/packed-batch.js';
import { MAX_BATCH, validateBatch } from '../src/ingest/validate-batch.js';
import type { Store } from '../src/store/store.js';
import { sqliteBackend } from './support/backends.js';
import { perLicensePlan } from './support/fixtures.js';
import { type HttpAnswer, http } from './support/http.js';

const ADMIN = 'operator-secret';
const NOW = Date.parse('2026-10-20T12:00:00Z');
const headers = { authorization: `Bearer ${ADMIN}` };

/** `n` valid events of October 2026 over a few members, sources and projects. */
function events(n: number, tag: string): Array<Record<string, string>> {
  return Array.from({ length: n }, (_, i) => ({
    id: `${tag}-${i}-é😀`,
    ...(i % 7 === 0 ? {} : { member: i % 5 === 0 ? '17' : `m${i % 40}` }),
    source: i % 5 === 0 ? 'adversus' : i % 7 === 0 ? 'marketing' : 'calls',
    occurredAt: `2026-10-${String(1 + (i % 19)).padStart(2, '0')}T${String(i % 24).padStart(2, '0')}:30:00+02:00`,
    ...(i % 3 === 0 ? { project: 'sales' } : {}),
  }));
}

describe('ingest bodies read on the worker thread', () => {
  const backend = sqliteBackend();
  const parser = new OffThreadParser();
  // The same org on two servers: one reads every ingest body on its own thread, the other every
  // body on the worker thread. Every answer must be the same.
  const servers: Array<{ store: Store; app: FastifyInstance; base: string }> = [];
  const send = async (
    url: string,
    payload: unknown,
    method: 'GET' | 'POST' = 'POST',
  ): Promise<HttpAnswer[]> => {
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    return Promise.all(
      servers.map(({ base }) =>
        http(base, method, url, {
          headers: { ...headers, 'content-type': 'application/json' },
          ...(method === 'POST' ? { payload: body } : {}),
        }),
      ),
    );
  };
  const same = async (url: string, payload: unknown): Promise<HttpAnswer> => {
    const [inline, worker] = (await send(url, payload)) as [HttpAnswer, HttpAnswer];
    expect({ status: worker.statusCode, body: worker.body }).toEqual({
      status: inline.statusCode,
      body: inline.body,
    });
    return worker;
  };

  beforeAll(async () => {
    for (const offThreadParseBytes of [Number.POSITIVE_INFINITY, 0]) {
      const store = await backend.open();
      const app = await buildServer({
        store,
        adminKey: ADMIN,
        now: () => NOW,
        checkAnswers: true,
        offThreadParseBytes,
        offThreadParser: parser,
      });
      servers.push({ store, app, base: await app.listen({ port: 0, host: '127.0.0.1' }) });
    }
    await send('/v1/orgs', {
      id: 'calls',
      name: 'Calls',
      timezone: 'Europe/Copenhagen',
      plan: perLicensePlan({ licenses: 3 }),
    });
    await send('/v1/orgs/calls/projects/sales', { name: 'Sales' });
    await send('/v1/orgs/calls/members/ann', {
      email: 'ann@calls.example',
      aliases: [{ source: 'adversus', externalId: '17' }],
      status: 'active',
    });
  }, 120_000);
  afterAll(async () => {
    for (const { app, store } of servers) {
      await app.close();
      await store.close();
    }
    await parser.close();
    await backend.teardown();
  });

  it('stores a valid batch, and its repeat as duplicates, the same way', async () => {
    const answered = parser.answered;
    const batch = { events: events(1_200, 'a') };
    expect((await same('/v1/orgs/calls/events', batch)).json()).toEqual({
      accepted: 1_200,
      duplicates: 0,
      late: 0,
    });
    expect((await same('/v1/orgs/calls/events', batch)).json()).toEqual({
      accepted: 0,
      duplicates: 1_200,
      late: 0,
    });
    // The worker read both bodies of the second server.
    expect(parser.answered - answered).toBe(2);
    const [inline, worker] = (await send('/v1/orgs/calls/usage?month=2026-10', undefined, 'GET')) as [
      HttpAnswer,
      HttpAnswer,
    ];
    expect(worker.json()).toEqual(inline.json());
    expect(
      (worker.json() as { days: Array<{ count: number }> }).days.slice(0, 19).map((d) => d.count),
    ).not.toContain(0);
    const [a, b] = await send('/v1/orgs/calls/usage/projects?month=2026-10', undefined, 'GET');
    expect(b?.json()).toEqual(a?.json());
  });

  it('answers invalid events with the same issues', async () => {
    const answered = parser.answered;
    const answer = await same('/v1/orgs/calls/events', {
      events: [
        ...events(3, 'b'),
        { source: 'calls', occurredAt: '2026-10-01T10:00:00Z' },
        { id: 'x', source: 'calls', occurredAt: '2026-10-01 10:00' },
        { id: 'y', source: 'calls', occurredAt: '2026-10-20T12:30:00Z' },
        { id: '\ud800', source: 'calls', occurredAt: '2026-10-01T10:00:00Z' },
        'not an event',
      ],
    });
    expect(answer.statusCode).toBe(400);
    expect(answer.json()).toMatchObject({
      error: {
        details: [
          { index: 3, field: 'id' },
          { index: 4, field: 'occurredAt' },
          { index: 5, field: 'occurredAt' },
          { index: 6, field: 'id' },
          { index: 7, field: 'event' },
        ],
      },
    });
    expect(parser.answered - answered).toBe(1);
  });

  it('answers bodies that are not a batch with the same errors', async () => {
    const bodies = [
      '{"events": [',
      '{"events": "x"}',
      '[1, 2]',
      '"events"',
      '',
      '{"events": [], "__proto__": {"polluted": 1}}',
      '{"events": [], "constructor": {"prototype": {"polluted": 1}}}',
      // The same keys with escaped names, beside valid events and inside one.
      `{"events": ${JSON.stringify(events(400, 'esc'))}, "\\u005f_proto__": {"x": 1}}`,
      `{"events": ${JSON.stringify(events(400, 'esc'))}, "\\u0063onstructor": {"prototype": {}}}`,
      `{"events": [{"id": "e", "source": "calls", "occurredAt": "2026-10-01T10:00:00Z", "\\u005f_proto__": {}}]}`,
      JSON.stringify({ events: Array.from({ length: 10_001 }, () => ({})) }),
    ];
    for (const body of bodies) {
      const answer = await same('/v1/orgs/calls/events', body);
      expect(answer.statusCode, body.slice(0, 40)).toBe(400);
    }
    // Unknown fields next to `events` are no error, nor a leading byte order mark, on either path.
    expect((await same('/v1/orgs/calls/events', { events: events(2, 'd'), note: 1 })).statusCode).toBe(200);
    const answered = parser.answered;
    const bom = `\ufeff${JSON.stringify({ events: events(2, 'c') })}`;
    expect((await same('/v1/orgs/calls/events', bom)).json()).toMatchObject({ accepted: 2 });
    expect(parser.answered - answered).toBe(1);
  });

  it('answers any mix of good and bad events the same way', async () => {
    const field = fc.oneof(
      fc.constantFrom('m1', '17', 'sales', '', 'x'.repeat(201), '\ud800'),
      fc.string({ maxLength: 4 }),
      fc.integer(),
      fc.constant(null),
    );
    const when = fc.oneof(
      fc.constantFrom(
        '2026-10-05T08:00:00Z',
        '2026-10-05T08:00',
        '2026-02-30T08:00:00Z',
        '2026-10-20T12:04:59Z',
      ),
      fc
        .date({ min: new Date('2026-09-01'), max: new Date('2026-10-21'), noInvalidDate: true })
        .map((d) => d.toISOString()),
    );
    const event = fc.record(
      {
        id: fc.oneof(fc.uuid(), field),
        member: field,
        source: fc.oneof(fc.constantFrom('calls', 'adversus'), field),
        occurredAt: when,
        project: field,
      },
      { requiredKeys: [] },
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(event, { maxLength: 40 }), async (batch) => {
        // Ids unique per run, so that each run's valid batches are stored fresh.
        const tagged = batch.map((e) =>
          typeof e.id === 'string' && e.id.length > 8 ? { ...e, id: `${e.id}-${n}` } : e,
        );
        n++;
        await same('/v1/orgs/calls/events', { events: tagged });
      }),
      { numRuns: 40 },
    );
  });
});

describe('OffThreadParser', () => {
  it('answers what validateBatch answers, and undefined for what is not a batch', async () => {
    const parser = new OffThreadParser();
    try {
      const body = { events: events(500, 'p') };
      expect(await parser.parse(Buffer.from(JSON.stringify(body)), NOW)).toEqual(
        validateBatch(body.events, NOW),
      );
      const bad = { events: [{ id: 'e', source: 'calls', occurredAt: '2026-13-01T00:00:00Z' }] };
      expect(await parser.parse(Buffer.from(JSON.stringify(bad)), NOW)).toEqual(
        validateBatch(bad.events, NOW),
      );
      expect(await parser.parse(Buffer.from('{"events": '), NOW)).toBeUndefined();
      expect(await parser.parse(Buffer.from('{"events": {}}'), NOW)).toBeUndefined();
      expect(parser.answered).toBe(4);
    } finally {
      await parser.close();
    }
  });

  it('reads the largest batch, every string at its longest, on its bounded young generation', async () => {
    const parser = new OffThreadParser();
    try {
      const long = (tag: string, i: number) => `${tag}${i}`.padEnd(200, 'x');
      const body = {
        events: Array.from({ length: MAX_BATCH }, (_, i) => ({
          id: long('id', i),
          member: long('member', i),
          source: long('source', i % 50),
          project: long('project', i % 20),
          occurredAt: '2026-10-19T12:00:00Z',
        })),
      };
      const bytes = Buffer.from(JSON.stringify(body));
      expect(bytes.length).toBeGreaterThan(6_000_000);
      const answer = await parser.parse(bytes, NOW);
      expect(answer?.ok).toBe(true);
      expect(answer).toEqual(validateBatch(body.events, NOW));
      expect(parser.answered).toBe(1);
    } finally {
      await parser.close();
    }
  });

  it('reads a body waiting when it closes on the main thread, and starts again', async () => {
    const parser = new OffThreadParser();
    const body = Buffer.from(JSON.stringify({ events: events(2_000, 'q') }));
    const waiting = parser.parse(body, NOW);
    await parser.close();
    expect(await waiting).toBeUndefined();
    expect((await parser.parse(body, NOW))?.ok).toBe(true);
    await parser.close();
  });

  it('leaves bodies to the main thread when its worker fails, and gives up after three in a row', async () => {
    const errors: string[] = [];
    // A heap too small for the worker to start: each one dies.
    const parser = new OffThreadParser({
      onError: (error) => errors.push(error.message),
      resourceLimits: { maxOldGenerationSizeMb: 1, maxYoungGenerationSizeMb: 1 },
    });
    const body = Buffer.from(JSON.stringify({ events: events(100, 'r') }));
    for (let i = 0; i < 4; i++) expect(await parser.parse(body, NOW)).toBeUndefined();
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(
      /^the worker thread that parses ingest bodies failed \(.+\); it is started again/,
    );
    expect(errors[2]).toMatch(/every ingest body is read on the main thread from now on$/);
    expect(parser.answered).toBe(0);
    await parser.close();
  });

  it('packs and unpacks any valid batch unchanged', () => {
    const text = fc.string({ minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            id: text,
            member: fc.option(text, { nil: undefined }),
            source: text,
            at: fc.integer({ min: 0, max: 2 ** 45 }),
            project: fc.option(text, { nil: undefined }),
          }),
        ),
        (batch) => {
          expect(unpack(pack(batch))).toEqual({ ok: true, events: batch });
        },
      ),
    );
  });
});
