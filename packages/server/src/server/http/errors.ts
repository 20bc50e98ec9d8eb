import type { Diagnostic, ErrorCode } from '@coser/runtime';
import { isCoserError } from '@coser/runtime';
import type { Response } from 'express';

/** The JSON error body every refusal carries: `{ error: { code, message, diagnostics? } }`. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; diagnostics?: Diagnostic[] };
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHORIZED: 401,
  FORBIDDEN_ORIGIN: 403,
  PATH_FORBIDDEN: 403,
  RUN_NOT_FOUND: 404,
  FILE_NOT_FOUND: 404,
  MODEL_MISSING: 404,
  PAYLOAD_TOO_LARGE: 413,
  FILE_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  QUEUE_FULL: 503,
  NOT_READY: 503,
  INTERNAL: 500,
};

/** The HTTP status of an error code: 400 unless listed (every validation code is a client error). */
export function httpStatus(code: ErrorCode): number {
  return STATUS[code] ?? 400;
}

/** An error as the JSON the API and the socket acks send. Non-CoserErrors become INTERNAL (and are logged). */
export function describeError(error: unknown): { code: ErrorCode; message: string; diagnostics?: Diagnostic[] } {
  if (isCoserError(error)) {
    const diagnostics = Array.isArray(error.cause) ? (error.cause as Diagnostic[]) : undefined;
    return { code: error.code, message: error.message, ...(diagnostics ? { diagnostics } : {}) };
  }
  return { code: 'INTERNAL', message: 'internal server error' };
}

export function sendError(
  res: Response,
  code: ErrorCode,
  message: string,
  options: { status?: number; diagnostics?: Diagnostic[] } = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body: ErrorBody = {
    error: { code, message, ...(options.diagnostics ? { diagnostics: options.diagnostics } : {}) },
  };
  res.status(options.status ?? httpStatus(code)).json(body);
}
