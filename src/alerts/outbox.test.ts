import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { failureText } from './outbox.js';

describe('failureText', () => {
  it('says why a webhook could not be reached, not only that fetch failed', async () => {
    // A port that was just free: nothing listens there.
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const refused = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(failureText(refused)).toMatch(/^fetch failed: .*ECONNREFUSED/);
    expect(failureText(new Error('plain'))).toBe('plain');
    expect(failureText('text')).toBe('text');
  });
});
