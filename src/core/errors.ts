/**
 * The few typed errors every layer understands. The HTTP layer maps them to a status and the
 * `{ error: { code, message, details } }` body; the CLI maps them to a message and an exit code.
 */

/** One bad field. `index` names the item of a batch it belongs to. */
export interface FieldIssue {
  readonly field: string;
  readonly message: string;
  readonly index?: number;
}

export type ErrorKind =
  | 'validation'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'rate_limited';

export class SeatmeterError extends Error {
  override readonly name: string = 'SeatmeterError';
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly details: readonly FieldIssue[] = [],
  ) {
    super(message);
  }
}

export class ValidationError extends SeatmeterError {
  override readonly name: string = 'ValidationError';
  constructor(details: readonly FieldIssue[], message = summarize(details)) {
    super('validation', 'invalid_request', message, details);
  }
}

export class NotFoundError extends SeatmeterError {
  override readonly name: string = 'NotFoundError';
  constructor(what: string, id: string) {
    super('not_found', 'not_found', `${what} '${id}' not found`);
  }
}

export class ConflictError extends SeatmeterError {
  override readonly name: string = 'ConflictError';
  constructor(code: string, message: string) {
    super('conflict', code, message);
  }
}

export class UnauthorizedError extends SeatmeterError {
  override readonly name: string = 'UnauthorizedError';
  constructor(message = 'a valid API key is required') {
    super('unauthorized', 'unauthorized', message);
  }
}

export class ForbiddenError extends SeatmeterError {
  override readonly name: string = 'ForbiddenError';
  constructor(message: string) {
    super('forbidden', 'forbidden', message);
  }
}

/** A change that would alter a closed month's statement, or closing a month that has not ended. */
export class PeriodClosedError extends ConflictError {
  override readonly name: string = 'PeriodClosedError';
}

/** Inviting one more member would reach past the org's fair-use cap. */
export class FairUseCapError extends ConflictError {
  override readonly name: string = 'FairUseCapError';
  constructor(cap: number) {
    super(
      'fair_use_cap_reached',
      `the fair-use cap of ${cap} active and invited members is reached; revoke members before inviting more`,
    );
  }
}

function summarize(details: readonly FieldIssue[]): string {
  const first = details[0];
  if (first === undefined) return 'invalid request';
  const where = first.index === undefined ? first.field : `[${first.index}].${first.field}`;
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
  return `${where}: ${first.message}${more}`;
}

/** The HTTP status that goes with an error kind. */
export const HTTP_STATUS: Readonly<Record<ErrorKind, number>> = {
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
};
