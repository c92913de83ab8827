import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { type FieldIssue, HTTP_STATUS, SeatmeterError } from '../core/errors.js';

export interface ErrorBody {
  error: { code: string; message: string; details: FieldIssue[] };
}

const body = (code: string, message: string, details: FieldIssue[] = []): ErrorBody => ({
  error: { code, message, details },
});

/** Where in the request a validation error was found, as a field path: `plan.tiers.1.upTo`. */
function issuesOf(error: {
  validation: Array<{ instancePath: string; message?: string; params?: unknown }>;
}) {
  return error.validation.map((v): FieldIssue => {
    const issue = (v.params as { issue?: { path?: PropertyKey[] } } | undefined)?.issue;
    const path = issue?.path?.map(String).join('.') ?? v.instancePath.replace(/^\//, '').replaceAll('/', '.');
    return { field: path || '(body)', message: v.message ?? 'is invalid' };
  });
}

/**
 * The one place errors become HTTP answers: typed seatmeter errors by kind, request validation as
 * 400 naming every bad field, oversized bodies as 413; anything else is a 500 without internals,
 * its cause given to `report` (the server's log).
 */
export const errorHandler =
  (report: (error: unknown) => void) =>
  (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof SeatmeterError) {
      return reply.code(HTTP_STATUS[error.kind]).send(body(error.code, error.message, [...error.details]));
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const details = issuesOf(error);
      const first = details[0];
      const where = error.validationContext ?? 'request';
      return reply
        .code(400)
        .send(
          body(
            'invalid_request',
            first ? `${where}: ${first.field}: ${first.message}` : 'invalid request',
            details,
          ),
        );
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply
        .code(413)
        .send(body('payload_too_large', 'the request body is larger than the server reads'));
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(error.statusCode).send(body('bad_request', error.message));
    }
    report(new Error(`${request.method} ${request.url}: ${error.message}`, { cause: error }));
    return reply.code(500).send(body('internal', 'internal error'));
  };
