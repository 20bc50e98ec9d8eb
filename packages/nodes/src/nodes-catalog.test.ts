import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { AnyNodeDefinition } from '@coser/runtime';
import { describe, expect, it } from 'vitest';
import * as nodesModule from './index';
import { allNodes, createDefaultRegistry } from './index';

const SRC = path.dirname(new URL(import.meta.url).pathname);
/** Folders under src/ that are not node categories. */
const NOT_NODES = new Set(['lib', 'host', 'models', 'convert', 'onnx']);
const WIDGETS = new Set(['image-path', 'model', 'model-set', 'output-name', 'prompt']);

const camel = (kebab: string) => kebab.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema & Record<string, unknown>>;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
}

/** Every `src/<category>/<name>.ts` (not tests, not helper folders) with the node definitions it exports. */
function nodeFiles(): { category: string; file: string }[] {
  const found: { category: string; file: string }[] = [];
  for (const entry of readdirSync(SRC, { withFileTypes: true })) {
    if (!entry.isDirectory() || NOT_NODES.has(entry.name)) continue;
    for (const file of readdirSync(path.join(SRC, entry.name))) {
      if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
      found.push({ category: entry.name, file });
    }
  }
  return found;
}

function isNodeDefinition(value: unknown): value is AnyNodeDefinition {
  return typeof value === 'object' && value !== null && 'type' in value && 'execute' in value && 'params' in value;
}

describe('node catalog', () => {
  const registry = createDefaultRegistry();

  it('every node file exports one node named after the file, registered in allNodes', async () => {
    const files = nodeFiles();
    const fromFiles = new Set<AnyNodeDefinition>();
    for (const { category, file } of files) {
      const mod = (await import(/* @vite-ignore */ path.join(SRC, category, file))) as Record<string, unknown>;
      const definitions = Object.entries(mod).filter(([, v]) => isNodeDefinition(v));
      // Files in node folders either hold exactly one node or are helpers with none.
      if (definitions.length === 0) continue;
      expect(definitions, `${category}/${file}`).toHaveLength(1);
      const [name, definition] = definitions[0] as [string, AnyNodeDefinition];
      expect(name, `${category}/${file}`).toBe(camel(file.replace(/\.ts$/, '')));
      expect(definition.category, `${category}/${file}`).toBe(category);
      expect(definition.type, `${category}/${file}`).toBe(`${category}.${name}`);
      expect(allNodes, `${definition.type} missing from allNodes`).toContain(definition);
      fromFiles.add(definition);
    }
    for (const node of allNodes) expect(fromFiles.has(node), `${node.type} has no file of its own`).toBe(true);
  });

  it('re-exports every node from the main entry', () => {
    const exported = new Set(Object.values(nodesModule));
    for (const node of allNodes) expect(exported.has(node), node.type).toBe(true);
  });

  it('types are namespaced, unique and versioned', () => {
    const types = allNodes.map((n) => n.type);
    expect(new Set(types).size).toBe(types.length);
    for (const node of allNodes) {
      expect(node.type).toMatch(/^[a-z][a-zA-Z0-9]*\.[a-z][a-zA-Z0-9]*$/);
      expect(Number.isInteger(node.typeVersion) && node.typeVersion >= 1).toBe(true);
      expect(node.title.length).toBeGreaterThan(0);
      expect(node.description.length).toBeGreaterThan(10);
    }
  });

  it('every param has a default and a description; numbers have bounds; widgets are known', () => {
    for (const entry of registry.catalog()) {
      const schema = entry.params as JsonSchema;
      expect(schema.type, entry.type).toBe('object');
      for (const [name, prop] of Object.entries(schema.properties ?? {})) {
        const where = `${entry.type}.${name}`;
        expect(prop, where).toHaveProperty('default');
        expect(typeof prop['description'], where).toBe('string');
        expect((prop['description'] as string).length, where).toBeGreaterThan(3);
        if (prop.type === 'number' || prop.type === 'integer') {
          expect(prop, where).toHaveProperty('minimum');
          expect(prop, where).toHaveProperty('maximum');
        }
        if ('widget' in prop) {
          expect(WIDGETS.has(prop['widget'] as string), where).toBe(true);
          expect(prop.type, where).toBe('string');
        }
        // `appliesWhen: { otherParam: [values] }`: the editor shows the field only for those values of another
        // param of the same node, each of them one that param can take.
        if ('appliesWhen' in prop) {
          const when = prop['appliesWhen'] as Record<string, unknown[]>;
          expect(Object.keys(when).length, where).toBeGreaterThan(0);
          for (const [other, values] of Object.entries(when)) {
            const target = schema.properties?.[other];
            expect(target, `${where} appliesWhen ${other}`).toBeDefined();
            expect(other, where).not.toBe(name);
            const allowed = target?.enum ?? target?.anyOf?.map((v) => v.const);
            expect(Array.isArray(values) && values.length > 0, where).toBe(true);
            for (const value of values)
              expect(allowed, `${where} appliesWhen ${other}=${String(value)}`).toContain(value);
          }
        }
      }
      // The defaults must themselves be valid params.
      const definition = registry.get(entry.type)!;
      expect(definition.params.safeParse({}).success, entry.type).toBe(true);
    }
  });

  it('the catalog is JSON-serialisable without loss', () => {
    const catalog = registry.catalog();
    expect(JSON.parse(JSON.stringify(catalog))).toEqual(catalog);
    expect(catalog.map((c) => c.type)).toEqual(allNodes.map((n) => n.type));
  });

  it('the main entry stays browser-safe (no Node built-ins or sharp in its import graph)', async () => {
    const { readFile } = await import('node:fs/promises');
    const seen = new Set<string>();
    const forbidden: string[] = [];
    async function walk(file: string): Promise<void> {
      if (seen.has(file)) return;
      seen.add(file);
      const text = await readFile(file, 'utf8');
      for (const match of text.matchAll(/^\s*(?:import|export)[^'"]*from\s+'([^']+)'/gm)) {
        const spec = match[1]!;
        if (spec.startsWith('.')) await walk(path.resolve(path.dirname(file), `${spec}.ts`));
        else if (/^(node:|fs$|path$|os$|crypto$|sharp$|onnxruntime-node)/.test(spec))
          forbidden.push(`${file}: ${spec}`);
      }
      if (/\bBuffer\.|\bprocess\./.test(text.replace(/\/\/.*$/gm, ''))) forbidden.push(`${file}: Buffer/process`);
    }
    await walk(path.join(SRC, 'index.ts'));
    expect(forbidden).toEqual([]);
  });
});
