import type { z } from 'zod';
import type { AnyNodeDefinition } from '../engine/node-definition';
import type { Diagnostic } from '../errors';
import { migrateNodeParams } from './migrations';
import type { GraphNode } from './schema';

/**
 * Migrates a node's saved params to the definition's version and parses them with its zod schema (defaults
 * applied). Problems become diagnostics naming the node and param: PARAM_OUT_OF_RANGE states the bounds
 * ("must be between 1 and 8"), PARAM_INVALID everything else (wrong type, NaN, Infinity, unknown option).
 * Unknown params are a warning: they are ignored, but a typo should not go unnoticed.
 */
export function parseNodeParams(
  definition: AnyNodeDefinition,
  node: Pick<GraphNode, 'id' | 'typeVersion' | 'params'>,
): { params?: Record<string, unknown>; diagnostics: Diagnostic[] } {
  const migrated = migrateNodeParams(definition, node);
  if (!migrated.params) return { diagnostics: migrated.diagnostics };
  const schema = definition.params as z.ZodObject;
  const diagnostics: Diagnostic[] = [];
  const shape = schema.shape as Record<string, z.ZodType>;
  const catchall = (schema.def as { catchall?: z.ZodType }).catchall;
  if (!catchall) {
    for (const key of Object.keys(migrated.params)) {
      if (!Object.hasOwn(shape, key)) {
        diagnostics.push({
          severity: 'warning',
          code: 'PARAM_INVALID',
          node: node.id,
          param: key,
          message: `${definition.type} has no param "${key}" (ignored); its params are: ${Object.keys(shape).join(', ') || 'none'}`,
        });
      }
    }
  }
  const result = schema.safeParse(migrated.params);
  if (result.success) return { params: result.data as Record<string, unknown>, diagnostics };
  const reported = new Set<string>();
  for (const issue of result.error.issues) {
    const param = issue.path.length > 0 ? String(issue.path[0]) : undefined;
    // zod may report two issues for one value (1e308 is over both the safe-integer limit and the max): keep one.
    const dedupeKey = param ?? '';
    if (reported.has(dedupeKey)) continue;
    reported.add(dedupeKey);
    const value = param === undefined ? undefined : migrated.params[param];
    diagnostics.push(paramDiagnostic(definition, node.id, param, value, issue, param ? shape[param] : undefined));
  }
  return { diagnostics };
}

function paramDiagnostic(
  definition: AnyNodeDefinition,
  nodeId: string,
  param: string | undefined,
  value: unknown,
  issue: z.core.$ZodIssue,
  field: z.ZodType | undefined,
): Diagnostic {
  const where = param ? `param "${param}" of node "${nodeId}"` : `params of node "${nodeId}"`;
  const got = `got ${describeValue(value)}`;
  if (issue.code === 'too_big' || issue.code === 'too_small') {
    const bounds = field ? numberBounds(field) : {};
    let rule: string;
    if (bounds.min !== undefined && bounds.max !== undefined) rule = `must be between ${bounds.min} and ${bounds.max}`;
    else if (issue.code === 'too_big') rule = `must be at most ${bounds.max ?? String(issue.maximum)}`;
    else rule = `must be at least ${bounds.min ?? String(issue.minimum)}`;
    const base: Diagnostic = {
      severity: 'error',
      code: 'PARAM_OUT_OF_RANGE',
      node: nodeId,
      message: `${where} ${rule} (${got})`,
    };
    return param ? { ...base, param } : base;
  }
  let rule = issue.message;
  if (typeof value === 'number' && !Number.isFinite(value)) rule = 'must be a finite number';
  const base: Diagnostic = {
    severity: 'error',
    code: 'PARAM_INVALID',
    node: nodeId,
    message: `${where}: ${rule} (${got}; ${definition.type})`,
  };
  return param ? { ...base, param } : base;
}

/** Reads min/max from a (possibly wrapped in default/optional) zod number schema. */
function numberBounds(field: z.ZodType): { min?: number; max?: number } {
  let current: z.ZodType | undefined = field;
  for (let i = 0; i < 8 && current; i++) {
    const candidate = current as unknown as { minValue?: unknown; maxValue?: unknown; unwrap?: () => z.ZodType };
    if (current.def.type === 'number') {
      const out: { min?: number; max?: number } = {};
      if (typeof candidate.minValue === 'number' && Number.isFinite(candidate.minValue)) out.min = candidate.minValue;
      if (typeof candidate.maxValue === 'number' && Number.isFinite(candidate.maxValue)) out.max = candidate.maxValue;
      // z.int() carries the safe-integer range as bounds; those are not the node author's bounds.
      if (out.min === Number.MIN_SAFE_INTEGER) delete out.min;
      if (out.max === Number.MAX_SAFE_INTEGER) delete out.max;
      return out;
    }
    current = typeof candidate.unwrap === 'function' ? candidate.unwrap() : undefined;
  }
  return {};
}

function describeValue(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  try {
    const text = JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 60)}…` : text;
  } catch {
    return typeof value;
  }
}
