import type { CatalogEntry, PortSpec } from '@coser/runtime';
import { CoserError } from '@coser/runtime';
import type { Command } from 'commander';

interface NodesFlags {
  json?: boolean;
}

/** `coser nodes [FILTER] [--json]`: the node catalog, for people (grouped by category) or for programs. */
export function registerNodesCommand(program: Command): void {
  program
    .command('nodes')
    .description('list the node types: ports, params with defaults and bounds')
    .argument('[filter]', 'only node types whose type or category starts with this (e.g. image, io.loadImage)')
    .option('--json', 'print the catalog as JSON (params as JSON Schema)')
    .action(async (filter: string | undefined, flags: NodesFlags) => {
      const { createDefaultRegistry } = await import('@coser/nodes');
      const catalog = createDefaultRegistry()
        .catalog()
        .filter((entry) => !filter || entry.type.startsWith(filter) || entry.category.startsWith(filter));
      if (filter && catalog.length === 0) throw new CoserError('UNKNOWN_NODE_TYPE', `no node type matches "${filter}"`);
      process.stdout.write(flags.json ? `${JSON.stringify(catalog, null, 2)}\n` : formatCatalog(catalog));
    });
}

/** The catalog as terminal text: categories, then each node with its ports and params. */
export function formatCatalog(catalog: readonly CatalogEntry[]): string {
  const lines: string[] = [];
  const categories = [...new Set(catalog.map((e) => e.category))].sort();
  for (const category of categories) {
    lines.push(`${category}`);
    for (const entry of catalog.filter((e) => e.category === category).sort((a, b) => a.type.localeCompare(b.type))) {
      lines.push(`  ${entry.type}  ${entry.title}  (v${entry.typeVersion}${entry.output ? ', output' : ''})`);
      if (entry.description) lines.push(`    ${entry.description}`);
      lines.push(`    inputs:  ${formatPorts(entry.inputs)}`);
      lines.push(`    outputs: ${formatPorts(entry.outputs)}`);
      const params = formatParams(entry.params);
      if (params.length > 0) lines.push('    params:', ...params.map((p) => `      ${p}`));
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

function formatPorts(ports: Record<string, PortSpec>): string {
  const entries = Object.entries(ports);
  if (entries.length === 0) return '-';
  return entries.map(([name, spec]) => `${name} (${spec.kind}${spec.optional ? ', optional' : ''})`).join(', ');
}

type JsonSchema = Record<string, unknown>;

/** One line per param, in columns: name, type, default, bounds or choices, description. */
export function formatParams(schema: JsonSchema): string[] {
  const properties = asRecord(schema['properties']);
  if (!properties) return [];
  const rows = Object.entries(properties).map(([name, value]) => {
    const prop = asRecord(value) ?? {};
    const choices = choicesOf(prop);
    return [
      name,
      choices ? 'enum' : typeOf(prop),
      'default' in prop ? `= ${JSON.stringify(prop['default'])}` : '',
      choices ?? boundsOf(prop) ?? '',
      typeof prop['description'] === 'string' ? prop['description'] : '',
    ];
  });
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i < widths.length ? cell.padEnd(widths[i] ?? 0) : cell))
      .join('  ')
      .trimEnd(),
  );
}

function choicesOf(prop: JsonSchema): string | undefined {
  return Array.isArray(prop['enum']) ? prop['enum'].map((v) => String(v)).join('|') : undefined;
}

function typeOf(prop: JsonSchema): string {
  if (typeof prop['type'] === 'string') return prop['type'];
  if (Array.isArray(prop['type'])) return prop['type'].join('|');
  const variants = prop['anyOf'] ?? prop['oneOf'];
  if (Array.isArray(variants)) {
    return variants
      .map((v) => {
        const variant = asRecord(v) ?? {};
        return 'const' in variant ? JSON.stringify(variant['const']) : typeOf(variant);
      })
      .join('|');
  }
  if ('const' in prop) return JSON.stringify(prop['const']);
  return 'any';
}

function boundsOf(prop: JsonSchema): string | undefined {
  const min = prop['minimum'] ?? prop['exclusiveMinimum'];
  const max = prop['maximum'] ?? prop['exclusiveMaximum'];
  if (typeof min !== 'number' && typeof max !== 'number') return undefined;
  const open = 'exclusiveMinimum' in prop ? '(' : '[';
  const close = 'exclusiveMaximum' in prop ? ')' : ']';
  return `${open}${typeof min === 'number' ? min : ''}..${typeof max === 'number' ? max : ''}${close}`;
}

function asRecord(value: unknown): JsonSchema | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonSchema) : undefined;
}
