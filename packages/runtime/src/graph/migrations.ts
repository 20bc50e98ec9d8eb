import type { AnyNodeDefinition } from '../engine/node-definition';
import type { Diagnostic } from '../errors';
import { GRAPH_VERSION } from './schema';

/** A raw graph object between parsing and schema validation (shape not yet trusted). */
export type RawGraph = Record<string, unknown>;

/**
 * One step of the graph file's history: upgrades a file saved at `from` to `from + 1`. Migrations work on raw
 * JSON (never on today's types) because they must keep working after the schema moves on.
 */
export interface GraphMigration {
  readonly from: number;
  readonly description: string;
  migrate(graph: RawGraph): RawGraph;
}

/**
 * The ordered list of graph-file migrations. Version 1 is the first released format, so the list is empty; the
 * next format change appends `{ from: 1, ... }` and bumps `GRAPH_VERSION`.
 */
export const GRAPH_MIGRATIONS: readonly GraphMigration[] = [];

/**
 * Upgrades a raw graph from its `version` to `target` by applying each migration in order. The input is not
 * mutated (each migration receives a copy). Returns diagnostics instead of throwing: a missing step or a throwing
 * migration is `GRAPH_FORMAT`, a version newer than `target` is `GRAPH_VERSION_FUTURE`.
 */
export function migrateGraph(
  raw: RawGraph,
  migrations: readonly GraphMigration[] = GRAPH_MIGRATIONS,
  target: number = GRAPH_VERSION,
): { graph?: RawGraph; diagnostics: Diagnostic[] } {
  const version = raw['version'];
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    return { diagnostics: [error('GRAPH_FORMAT', `"version" must be a positive integer (got ${describe(version)})`)] };
  }
  if (version > target) {
    return {
      diagnostics: [
        error(
          'GRAPH_VERSION_FUTURE',
          `the graph was saved by a newer CoSeR Studio (format version ${version}; this build reads up to ${target}): update CoSeR Studio`,
        ),
      ],
    };
  }
  let graph: RawGraph = raw;
  for (let v = version; v < target; v++) {
    const step = migrations.find((m) => m.from === v);
    if (!step) {
      return { diagnostics: [error('GRAPH_FORMAT', `no migration from graph format version ${v} to ${v + 1}`)] };
    }
    try {
      graph = { ...step.migrate(structuredClone(graph)), version: v + 1 };
    } catch (cause) {
      return {
        diagnostics: [
          error(
            'GRAPH_FORMAT',
            `migrating the graph from version ${v} failed (${step.description}): ${message(cause)}`,
          ),
        ],
      };
    }
  }
  return { graph, diagnostics: [] };
}

/**
 * Brings a node's saved params up to its definition's `typeVersion` with the definition's `migrations`
 * (`migrations[n]` upgrades version n to n + 1). Used by validation and the executor so nodes only ever see
 * current params. A saved version newer than the definition is `NODE_VERSION_FUTURE`; a missing or throwing
 * migration is `PARAM_INVALID`.
 *
 * @example
 * // in a node definition, after renaming `size` to `tileSize` in typeVersion 2:
 * migrations: { 1: ({ size, ...rest }) => ({ ...rest, tileSize: size }) },
 */
export function migrateNodeParams(
  definition: AnyNodeDefinition,
  node: { id: string; typeVersion: number; params: Record<string, unknown> },
): { params?: Record<string, unknown>; diagnostics: Diagnostic[] } {
  if (node.typeVersion > definition.typeVersion) {
    return {
      diagnostics: [
        {
          ...error(
            'NODE_VERSION_FUTURE',
            `node "${node.id}" is ${definition.type} version ${node.typeVersion}, but this build has version ${definition.typeVersion} (from a newer CoSeR Studio?)`,
          ),
          node: node.id,
        },
      ],
    };
  }
  let params = node.params;
  for (let v = node.typeVersion; v < definition.typeVersion; v++) {
    const step = definition.migrations?.[v];
    if (!step) {
      return {
        diagnostics: [
          {
            ...error('PARAM_INVALID', `${definition.type} has no params migration from version ${v} to ${v + 1}`),
            node: node.id,
          },
        ],
      };
    }
    try {
      params = step(structuredClone(params));
    } catch (cause) {
      return {
        diagnostics: [
          {
            ...error(
              'PARAM_INVALID',
              `migrating ${definition.type} params from version ${v} failed: ${message(cause)}`,
            ),
            node: node.id,
          },
        ],
      };
    }
  }
  return { params, diagnostics: [] };
}

function error(code: Diagnostic['code'], text: string): Diagnostic {
  return { severity: 'error', code, message: text };
}

function describe(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

function message(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
