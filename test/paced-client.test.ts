import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PacedClient } from '../bench/paced.js';

// The benchmark's paced load generator (bench/paced.ts) against a real HTTP server: the invite
// check's latency figure is only as good as its count of answers.
describe('the paced load generator', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    server = createServer(handler);
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('sends every request once, with its body, and times each answer', async () => {
    const seen: string[] = [];
    const base = await serve((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        seen.push(`${request.method} ${request.url} ${request.headers.authorization} ${body}`);
        // Every fifth answer is a 409, and answers come in two writes.
        const status = seen.length % 5 === 0 ? 409 : 200;
        const answer = JSON.stringify({ n: seen.length });
        response.writeHead(status, { 'content-type': 'application/json', 'content-length': answer.length });
        response.write(answer.slice(0, 3));
        setTimeout(() => response.end(answer.slice(3)), 1);
      });
    });
    const client = new PacedClient({
      url: `${base}/v1/x?y=1`,
      method: 'POST',
      headers: { authorization: 'Bearer k' },
      body: '{"a":1}',
    });
    const first = await client.run(200, 1);
    const second = await client.run(200, 1);
    client.close();
    expect(seen).toHaveLength(400);
    expect(new Set(seen)).toEqual(new Set(['POST /v1/x?y=1 Bearer k {"a":1}']));
    expect([first.failed, second.failed]).toEqual([40, 40]);
    expect(Number(first.p50)).toBeGreaterThanOrEqual(1);
    expect(Number(first.max)).toBeGreaterThanOrEqual(Number(first.p99));
  });

  it('fails on an answer it cannot frame rather than miscounting', async () => {
    const base = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"chunked":true}');
    });
    const client = new PacedClient({ url: `${base}/healthz`, method: 'GET' });
    await expect(client.run(100, 1)).rejects.toThrow(/without Content-Length/);
    client.close();
  });
});
