/**
 * Stable error codes. Users and scripts match on these strings, so a code is never renamed or reused;
 * add new ones at the end of their group.
 */
export const ERROR_CODES = [
  // graph file and structure
  'GRAPH_NOT_JSON',
  'GRAPH_INVALID',
  'GRAPH_FORMAT',
  'GRAPH_VERSION_FUTURE',
  'GRAPH_TOO_LARGE',
  'GRAPH_CYCLE',
  'DUPLICATE_ID',
  'FORBIDDEN_KEY',
  'UNKNOWN_NODE_TYPE',
  'NODE_VERSION_FUTURE',
  'UNKNOWN_PORT',
  'TYPE_MISMATCH',
  'INPUT_UNCONNECTED',
  'INPUT_MULTIPLE',
  'PARAM_INVALID',
  'PARAM_OUT_OF_RANGE',
  'UNKNOWN_GRAPH_INPUT',
  // images and files
  'IMAGE_TOO_LARGE',
  'IMAGE_CORRUPT',
  'IMAGE_UNSUPPORTED',
  'FILE_NOT_FOUND',
  'FILE_TOO_LARGE',
  'PATH_FORBIDDEN',
  'OUTPUT_OVERWRITES_INPUT',
  'DISK_FULL',
  // models
  'MODEL_MISSING',
  'MODEL_INCOMPATIBLE',
  'MODEL_CORRUPT',
  'MODEL_FORBIDDEN',
  'MODEL_SET_INVALID',
  // execution
  'OUT_OF_MEMORY',
  'CANCELLED',
  'NODE_FAILED',
  'INTERNAL',
  /** The inference engine could not start here (no WebGPU adapter, WASM blocked): a setting, not a bug. */
  'BACKEND_UNAVAILABLE',
  // command line and server
  'USAGE',
  'QUEUE_FULL',
  'UNAUTHORIZED',
  'FORBIDDEN_ORIGIN',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'RUN_NOT_FOUND',
  'NOT_READY',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Where in a graph an error or diagnostic points. Every field is optional: a graph-level error names none. */
export interface ErrorLocation {
  node?: string;
  port?: string;
  param?: string;
}

/**
 * The one error type the runtime, nodes and adapters throw for anything a user can cause or fix.
 * Anything else reaching the executor is reported as `INTERNAL` (a bug of ours).
 *
 * @example
 * throw new CoserError('IMAGE_TOO_LARGE', `image is 20000x20000, over the cap of ${cap} pixels`, { node: ctx.nodeId, port: 'image' });
 */
export class CoserError extends Error {
  readonly code: ErrorCode;
  readonly location: ErrorLocation;

  constructor(code: ErrorCode, message: string, location: ErrorLocation = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CoserError';
    this.code = code;
    this.location = location;
  }

  /** A copy that also names the node (executors add it when a node's code threw without one). */
  at(location: ErrorLocation): CoserError {
    return new CoserError(this.code, this.message, { ...location, ...this.location }, { cause: this.cause });
  }
}

export function isCoserError(value: unknown): value is CoserError {
  return value instanceof CoserError;
}

/** Diagnostics are what validation returns instead of throwing. */
export interface Diagnostic extends ErrorLocation {
  severity: 'error' | 'warning';
  code: ErrorCode;
  message: string;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}
