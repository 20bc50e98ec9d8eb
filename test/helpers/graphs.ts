import { writeFile } from 'node:fs/promises';
import path from 'node:path';

/** A graph node as test graphs write them (typeVersion 1 unless given). */
export interface TestNode {
  id: string;
  type: string;
  typeVersion?: number;
  params?: Record<string, unknown>;
}

/**
 * Writes a graph file built from nodes and `from -> to` edges ("load.image -> save.image") and returns its path.
 *
 * @example
 * const file = await writeGraph(dir, 'g.json', [{ id: 'load', type: 'io.loadImage' }, ...], ['load.image -> save.image'], { image: 'load.path' });
 */
export async function writeGraph(
  dir: string,
  name: string,
  nodes: readonly TestNode[],
  edges: readonly string[],
  inputs: Record<string, string> = {},
): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, JSON.stringify(makeGraph(nodes, edges, inputs), null, 2));
  return file;
}

export function makeGraph(nodes: readonly TestNode[], edges: readonly string[], inputs: Record<string, string> = {}) {
  const ref = (text: string) => {
    const dot = text.lastIndexOf('.');
    return { node: text.slice(0, dot), port: text.slice(dot + 1) };
  };
  return {
    format: 'coser-graph',
    version: 1,
    name: name(nodes),
    nodes: nodes.map((n) => ({ id: n.id, type: n.type, typeVersion: n.typeVersion ?? 1, params: n.params ?? {} })),
    edges: edges.map((e) => {
      const [from, to] = e.split('->').map((s) => s.trim());
      return { from: ref(from ?? ''), to: ref(to ?? '') };
    }),
    inputs: Object.fromEntries(
      Object.entries(inputs).map(([input, target]) => {
        const { node, port } = ref(target);
        return [input, { node, param: port }];
      }),
    ),
  };
}

function name(nodes: readonly TestNode[]): string {
  return `test: ${nodes.map((n) => n.id).join(' -> ')}`;
}
