/**
 * Typed errors of the control plane. Domain code throws these; only `toHttpResponse` (and the WebSocket
 * equivalent) turns them into status codes, so the mapping lives in one place.
 */
export interface ProblemDetail {
  path: string;
  code?: string;
  message: string;
}

export abstract class AgentplaneError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  constructor(message: string, readonly details?: unknown) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends AgentplaneError {
  readonly status = 400;
  readonly code = 'validation_error';
  constructor(message: string, readonly problems: ProblemDetail[] = []) {
    super(message, problems.length > 0 ? { problems } : undefined);
  }
}

export class UnauthorizedError extends AgentplaneError {
  readonly status = 401;
  readonly code = 'unauthorized';
}

export class ForbiddenError extends AgentplaneError {
  readonly status = 403;
  readonly code = 'forbidden';
}

export class NotFoundError extends AgentplaneError {
  readonly status = 404;
  readonly code = 'not_found';
}

export class ConflictError extends AgentplaneError {
  readonly status = 409;
  readonly code = 'conflict';
}

export class PayloadTooLargeError extends AgentplaneError {
  readonly status = 413;
  readonly code = 'payload_too_large';
}

export class UnsupportedMediaTypeError extends AgentplaneError {
  readonly status = 415;
  readonly code = 'unsupported_media_type';
}

export class NotImplementedError extends AgentplaneError {
  readonly status = 501;
  readonly code = 'not_implemented';
}
