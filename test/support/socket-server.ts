import { buildServer, type ServerOptions } from '../../src/api/server.js';
import { type HttpAnswer, http } from './http.js';

/** A request as the suites write it (the shape of Fastify's `inject` options). */
export interface SocketRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string is sent as it is, with the caller's content type. */
  payload?: unknown;
}

/** A server listening on a loopback port, spoken to over a real socket. */
export interface SocketServer {
  readonly base: string;
  request(req: SocketRequest): Promise<HttpAnswer>;
  close(): Promise<void>;
}

/** The server with every answer checked against its documented schema (`checkAnswers`). */
export async function serveOnSocket(options: ServerOptions): Promise<SocketServer> {
  const app = await buildServer({ checkAnswers: true, ...options });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    base,
    request: ({ method, url, headers, payload }) =>
      http(base, method, url, {
        ...(headers ? { headers } : {}),
        ...(payload === undefined ? {} : { payload }),
      }),
    close: () => app.close(),
  };
}
