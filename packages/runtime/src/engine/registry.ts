import { z } from 'zod';
import type { PortSpec } from '../graph/ports';
import type { AnyNodeDefinition } from './node-definition';

/** A node type as data: what the editor and `coser nodes` receive instead of node code. */
export interface CatalogEntry {
  type: string;
  typeVersion: number;
  title: string;
  category: string;
  description: string;
  inputs: Record<string, PortSpec>;
  outputs: Record<string, PortSpec>;
  /** JSON Schema (draft 2020-12) of the params, with defaults, bounds, descriptions and `widget` hints. */
  params: Record<string, unknown>;
  output: boolean;
}

export interface NodeRegistry {
  get(type: string): AnyNodeDefinition | undefined;
  has(type: string): boolean;
  list(): readonly AnyNodeDefinition[];
  catalog(): CatalogEntry[];
}

/**
 * Builds a registry from an explicit list (no global mutable state). Throws at construction on duplicate types:
 * that is a programming error, not user input.
 */
export function createRegistry(definitions: readonly AnyNodeDefinition[]): NodeRegistry {
  const byType = new Map<string, AnyNodeDefinition>();
  for (const definition of definitions) {
    if (byType.has(definition.type)) throw new Error(`node type ${definition.type} is registered twice`);
    byType.set(definition.type, definition);
  }
  let catalogCache: CatalogEntry[] | undefined;
  return {
    get: (type) => byType.get(type),
    has: (type) => byType.has(type),
    list: () => [...byType.values()],
    catalog() {
      catalogCache ??= [...byType.values()].map(toCatalogEntry);
      return structuredClone(catalogCache);
    },
  };
}

function toCatalogEntry(definition: AnyNodeDefinition): CatalogEntry {
  return {
    type: definition.type,
    typeVersion: definition.typeVersion,
    title: definition.title,
    category: definition.category,
    description: definition.description,
    inputs: { ...definition.inputs },
    outputs: { ...definition.outputs },
    params: z.toJSONSchema(definition.params, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
    output: definition.output === true,
  };
}
