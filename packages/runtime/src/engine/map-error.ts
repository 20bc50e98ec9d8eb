import { CoserError, type ErrorCode, isCoserError } from '../errors';

/** What a failed node reports: a stable code and a message fit for users (never a stack trace). */
export interface RunError {
  code: ErrorCode;
  message: string;
  node?: string;
  port?: string;
}

// V8's message when a typed array cannot be allocated, and onnxruntime's allocator failures (CPU and CUDA).
const OOM_PATTERNS = [
  /array buffer allocation failed/i,
  /invalid typed array length/i,
  /out of memory/i,
  /bad_alloc/i,
  /failed to allocate/i,
  /CUDA_ERROR_OUT_OF_MEMORY/,
  /cudaErrorMemoryAllocation/,
];

/**
 * Maps anything a node threw to a RunError: CoserError keeps its code and location; allocation failures become
 * OUT_OF_MEMORY; everything else is INTERNAL with the message only.
 */
export function toRunError(cause: unknown, node?: string): RunError {
  if (isCoserError(cause)) {
    return withLocation({ code: cause.code, message: cause.message }, cause.location.node ?? node, cause.location.port);
  }
  const message = cause instanceof Error ? cause.message : String(cause);
  if (OOM_PATTERNS.some((pattern) => pattern.test(message))) {
    return withLocation(
      {
        code: 'OUT_OF_MEMORY',
        message: `out of memory${node ? ` in node "${node}"` : ''}: ${message}; try a smaller tile size or image`,
      },
      node,
    );
  }
  return withLocation({ code: 'INTERNAL', message: message || 'unknown error' }, node);
}

function withLocation(error: RunError, node?: string, port?: string): RunError {
  return { ...error, ...(node ? { node } : {}), ...(port ? { port } : {}) };
}

/** Whether an error means "the run was cancelled" rather than a failure. */
export function isCancellation(cause: unknown, signal: AbortSignal): boolean {
  if (isCoserError(cause)) return cause.code === 'CANCELLED';
  return signal.aborted;
}

export function cancelledError(node?: string): CoserError {
  return new CoserError('CANCELLED', 'the run was cancelled', node ? { node } : {});
}
