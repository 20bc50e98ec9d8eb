import { CoserError, type Diagnostic, type ErrorLocation, isCoserError } from '@coser/runtime';

/** The command line's exit codes (ARCHITECTURE.md): scripts rely on them, so they never change. */
export const EXIT = {
  ok: 0,
  /** A run failed or a graph is invalid. */
  failed: 1,
  /** The command was called wrongly (unknown option, missing argument, malformed --input/--set). */
  usage: 2,
} as const;

/** A usage error: exit code 2, printed as `error USAGE: ...`. */
export function usageError(message: string): CoserError {
  return new CoserError('USAGE', message);
}

/** The exit code for an error that ended a command: 2 for USAGE, 1 for everything else. */
export function exitCodeFor(error: unknown): number {
  return isCoserError(error) && error.code === 'USAGE' ? EXIT.usage : EXIT.failed;
}

/** Whether to print stack traces: only for people debugging coser itself. */
export function debugEnabled(): boolean {
  return process.env['COSER_DEBUG'] === '1';
}

/**
 * One line for an error: `error CODE: message (node x, port y)`. Errors that are not CoserError are bugs of ours
 * and print as INTERNAL; their stack only with COSER_DEBUG=1.
 */
export function formatError(error: unknown): string {
  if (isCoserError(error)) {
    const line = `error ${error.code}: ${error.message}${formatLocation(error.location)}`;
    return debugEnabled() && error.stack ? `${line}\n${error.stack}` : line;
  }
  const message = error instanceof Error ? error.message : String(error);
  const line = `error INTERNAL: ${message}`;
  return debugEnabled() && error instanceof Error && error.stack ? `${line}\n${error.stack}` : line;
}

export function formatLocation(location: ErrorLocation): string {
  const parts: string[] = [];
  if (location.node) parts.push(`node ${location.node}`);
  if (location.port) parts.push(`port ${location.port}`);
  if (location.param) parts.push(`param ${location.param}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/** A diagnostic as one terminal line: `  error  TYPE_MISMATCH  up.image: Image output cannot feed ...`. */
export function formatDiagnostic(diagnostic: Diagnostic): string {
  const where = [diagnostic.node, diagnostic.port ?? diagnostic.param].filter(Boolean).join('.');
  const severity = diagnostic.severity === 'error' ? 'error  ' : 'warning';
  return `  ${severity} ${diagnostic.code}${where ? ` ${where}` : ''}: ${diagnostic.message}`;
}
