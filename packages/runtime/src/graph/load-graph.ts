import type { z } from 'zod';
import type { Diagnostic, ErrorCode } from '../errors';
import { GRAPH_MIGRATIONS, migrateGraph, type RawGraph } from './migrations';
import { isForbiddenKey, jsonTextDepth, scanValue } from './safe-keys';
import { GRAPH_FORMAT, GRAPH_VERSION, type GraphFile, graphFileSchema } from './schema';

/** Limits on untrusted graph files. */
export interface LoadGraphOptions {
  /** Largest accepted file, in bytes (UTF-8). Default 10 MB. */
  readonly maxBytes?: number;
  /** Deepest accepted nesting of arrays/objects. Default 64 (a real graph needs about 6). */
  readonly maxDepth?: number;
}

export interface LoadGraphResult {
  /** Present when the file is a valid, current-version graph (after migrations). */
  graph?: GraphFile;
  diagnostics: Diagnostic[];
}

export const MAX_GRAPH_BYTES = 10 * 1024 * 1024;
export const MAX_GRAPH_DEPTH = 64;
/** At most this many schema issues are reported; a badly broken file would otherwise produce thousands. */
const MAX_ISSUES = 20;

/**
 * Parses, checks and migrates a graph file from text, bytes or an already parsed value. Never throws: everything
 * wrong with the file is a diagnostic (GRAPH_TOO_LARGE, GRAPH_NOT_JSON, FORBIDDEN_KEY, GRAPH_FORMAT,
 * GRAPH_VERSION_FUTURE, GRAPH_INVALID with the path of the bad field). Structure (edges, ports, params) is
 * checked afterwards by `validateGraph`.
 *
 * @example
 * const { graph, diagnostics } = loadGraph(await readFile('upscale.json', 'utf8'));
 * if (!graph) for (const d of diagnostics) console.error(d.code, d.message);
 */
export function loadGraph(textOrValue: string | Uint8Array | unknown, options: LoadGraphOptions = {}): LoadGraphResult {
  try {
    return load(textOrValue, options);
  } catch (cause) {
    // Defensive: nothing above should throw, but a loader that takes a server down is worse than a vague error.
    return fail(
      'GRAPH_INVALID',
      `the graph could not be read: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
}

function load(input: unknown, options: LoadGraphOptions): LoadGraphResult {
  const maxBytes = options.maxBytes ?? MAX_GRAPH_BYTES;
  const maxDepth = options.maxDepth ?? MAX_GRAPH_DEPTH;
  let value: unknown;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const size = typeof input === 'string' ? input.length : input.byteLength;
    if (size > maxBytes) {
      return fail(
        'GRAPH_TOO_LARGE',
        `the graph file is ${formatBytes(size)}, over the limit of ${formatBytes(maxBytes)}`,
      );
    }
    let text: string;
    if (typeof input === 'string') text = input;
    else {
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(input);
      } catch {
        return fail('GRAPH_NOT_JSON', 'the graph file is not UTF-8 text');
      }
    }
    // A string's UTF-8 size can exceed its length (up to 3x): check the real byte count too.
    if (typeof input === 'string' && input.length * 3 > maxBytes) {
      const bytes = new TextEncoder().encode(input).byteLength;
      if (bytes > maxBytes) {
        return fail(
          'GRAPH_TOO_LARGE',
          `the graph file is ${formatBytes(bytes)}, over the limit of ${formatBytes(maxBytes)}`,
        );
      }
    }
    // Editors on Windows may save a byte-order mark, which JSON.parse refuses.
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    // Deep nesting is refused before JSON.parse, which (like any walker) would recurse once per level.
    if (jsonTextDepth(text, maxDepth) > maxDepth) {
      return fail('GRAPH_INVALID', `the graph file is nested more than ${maxDepth} levels deep`);
    }
    try {
      value = JSON.parse(text);
    } catch (cause) {
      const detail = cause instanceof SyntaxError ? `: ${cause.message}` : '';
      return fail('GRAPH_NOT_JSON', `the graph file is not valid JSON${detail}`);
    }
  } else {
    value = input;
  }

  const problem = scanValue(value, maxDepth);
  if (problem) {
    switch (problem.kind) {
      case 'forbidden-key':
        return fail('FORBIDDEN_KEY', `"${problem.key}" is not allowed as a key (at ${problem.path})`);
      case 'too-deep':
        return fail('GRAPH_INVALID', `the graph is nested more than ${maxDepth} levels deep (at ${problem.path})`);
      case 'cycle':
        return fail('GRAPH_INVALID', `the graph value refers to itself (at ${problem.path || 'the root'})`);
      case 'not-json':
        return fail(
          'GRAPH_INVALID',
          `the graph holds a ${problem.what}, which JSON cannot (at ${problem.path || 'the root'})`,
        );
    }
  }

  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return fail('GRAPH_FORMAT', `not a CoSeR graph: expected an object with "format": "${GRAPH_FORMAT}"`);
  }
  const raw = value as RawGraph;
  if (raw['format'] !== GRAPH_FORMAT) {
    const got = raw['format'] === undefined ? 'no "format" field' : `"format": ${JSON.stringify(raw['format'])}`;
    return fail('GRAPH_FORMAT', `not a CoSeR graph (${got}; expected "format": "${GRAPH_FORMAT}")`);
  }

  const forbiddenId = findForbiddenId(raw);
  if (forbiddenId) return fail('FORBIDDEN_KEY', forbiddenId);

  const migrated = migrateGraph(
    // Callers' objects are never modified: migrations and the schema work on a copy.
    typeof input === 'string' || input instanceof Uint8Array ? raw : structuredClone(raw),
    GRAPH_MIGRATIONS,
    GRAPH_VERSION,
  );
  if (!migrated.graph) return { diagnostics: migrated.diagnostics };

  const parsed = graphFileSchema.safeParse(migrated.graph);
  if (!parsed.success) return { diagnostics: zodDiagnostics(parsed.error.issues, migrated.graph) };
  return { graph: parsed.data, diagnostics: [] };
}

/** Ids and references that name a prototype key (the schema's id pattern would accept `__proto__`). */
function findForbiddenId(raw: RawGraph): string | undefined {
  const nodes = Array.isArray(raw['nodes']) ? raw['nodes'] : [];
  for (const [i, node] of nodes.entries()) {
    const id = (node as Record<string, unknown> | null)?.['id'];
    if (typeof id === 'string' && isForbiddenKey(id)) return `"${id}" is not allowed as a node id (nodes[${i}].id)`;
  }
  const edges = Array.isArray(raw['edges']) ? raw['edges'] : [];
  for (const [i, edge] of edges.entries()) {
    for (const end of ['from', 'to'] as const) {
      const ref = (edge as Record<string, unknown> | null)?.[end] as Record<string, unknown> | undefined;
      for (const field of ['node', 'port'] as const) {
        const name = ref?.[field];
        if (typeof name === 'string' && isForbiddenKey(name)) {
          return `"${name}" is not allowed as a ${field} name (edges[${i}].${end}.${field})`;
        }
      }
    }
  }
  const inputs = raw['inputs'];
  if (inputs && typeof inputs === 'object') {
    for (const [name, binding] of Object.entries(inputs)) {
      for (const field of ['node', 'param'] as const) {
        const ref = (binding as Record<string, unknown> | null)?.[field];
        if (typeof ref === 'string' && isForbiddenKey(ref)) {
          return `"${ref}" is not allowed as a ${field} name (inputs.${name}.${field})`;
        }
      }
    }
  }
  return undefined;
}

function zodDiagnostics(issues: readonly z.core.$ZodIssue[], raw: RawGraph): Diagnostic[] {
  const nodes = Array.isArray(raw['nodes']) ? raw['nodes'] : [];
  const out = issues.slice(0, MAX_ISSUES).map((issue): Diagnostic => {
    const path = formatPath(issue.path);
    const diagnostic: Diagnostic = {
      severity: 'error',
      code: 'GRAPH_INVALID',
      message: `${path || 'graph'}: ${issue.message}`,
    };
    // Name the node when the issue is inside one, so the editor can highlight it.
    if (issue.path[0] === 'nodes' && typeof issue.path[1] === 'number') {
      const id = (nodes[issue.path[1]] as Record<string, unknown> | undefined)?.['id'];
      if (typeof id === 'string') diagnostic.node = id;
      if (issue.path[2] === 'params' && typeof issue.path[3] === 'string') diagnostic.param = issue.path[3];
    }
    return diagnostic;
  });
  if (issues.length > MAX_ISSUES) {
    out.push({
      severity: 'error',
      code: 'GRAPH_INVALID',
      message: `… and ${issues.length - MAX_ISSUES} more problems`,
    });
  }
  return out;
}

/** `['nodes', 2, 'params', 'scale']` -> `nodes[2].params.scale`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function fail(code: ErrorCode, message: string): LoadGraphResult {
  return { diagnostics: [{ severity: 'error', code, message }] };
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}
