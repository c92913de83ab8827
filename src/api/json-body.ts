import type { FastifyInstance, FastifyRequest } from 'fastify';

export type BodyDone = (error: Error | null, body?: unknown) => void;

/**
 * How every request body is read: as JSON, whatever its Content-Type says (a client that sends JSON
 * as `text/plain`, the default of `fetch` with a string body, or with no type at all is served the
 * same), and an empty body is no body: a POST that needs none may still say `application/json`.
 * Bodies with `__proto__` or `constructor.prototype` keys are refused (Fastify's guard).
 */
export function jsonBodyReader(
  app: FastifyInstance,
): (request: FastifyRequest, text: string, done: BodyDone) => void {
  const json = app.getDefaultJsonParser('error', 'error');
  return (request, text, done) => {
    if (text.trim() === '') done(null, undefined);
    else json(request, text, done);
  };
}
