// Validation time of a 1,000-node graph (median and p99 over 50 runs; aim < 50 ms), with loadGraph of its text
// for comparison, and the time to reject bad graphs (10,000-deep nesting, 10 MB, a cycle, 10,000 nodes).
import { createRegistry, defineNode, type GraphFile, loadGraph, port, validateGraph } from '@coser/runtime';
import { z } from 'zod';

const NODES = 1000;
const RUNS = 50;

const blend = defineNode({
  type: 'bench.blend',
  typeVersion: 1,
  title: 'Blend',
  category: 'bench',
  description: 'Mixes two images.',
  inputs: { a: port.image(), b: port.image({ optional: true }) },
  outputs: { image: port.image() },
  params: z.object({
    amount: z.number().min(0).max(1).default(0.5).describe('Mix'),
    mode: z.enum(['normal', 'add', 'multiply']).default('normal').describe('Mode'),
    tileSize: z.number().int().min(64).max(4096).default(512).describe('Tile size'),
  }),
  async execute({ a }) {
    return { image: a };
  },
});
const source = defineNode({
  type: 'bench.source',
  typeVersion: 1,
  title: 'Source',
  category: 'bench',
  description: 'An image.',
  inputs: {},
  outputs: { image: port.image() },
  params: z.object({ path: z.string().default('').describe('Path') }),
  async execute() {
    throw new Error('not run');
  },
});
const registry = createRegistry([blend, source]);

// A layered DAG: each blend takes the previous node and one from further back.
const graph: GraphFile = {
  format: 'coser-graph',
  version: 1,
  name: 'validate bench',
  description: '',
  nodes: [
    { id: 'n0', type: 'bench.source', typeVersion: 1, params: { path: 'in.png' } },
    ...Array.from({ length: NODES - 1 }, (_, i) => ({
      id: `n${i + 1}`,
      type: 'bench.blend',
      typeVersion: 1,
      params: { amount: (i % 10) / 10, mode: 'add', tileSize: 256 },
      position: { x: i * 10, y: 0 },
    })),
  ],
  edges: Array.from({ length: NODES - 1 }, (_, i) => [
    { from: { node: `n${i}`, port: 'image' }, to: { node: `n${i + 1}`, port: 'a' } },
    ...(i > 5 ? [{ from: { node: `n${i - 5}`, port: 'image' }, to: { node: `n${i + 1}`, port: 'b' } }] : []),
  ]).flat(),
  inputs: { image: { node: 'n0', param: 'path' } },
};
const text = JSON.stringify(graph);

function measure(label: string, run: () => unknown, runs = RUNS): void {
  for (let i = 0; i < 3; i++) run();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  const p99 = times[Math.min(times.length - 1, Math.ceil(times.length * 0.99) - 1)]!;
  console.log(`${label.padEnd(46)} median ${median.toFixed(2).padStart(7)} ms   p99 ${p99.toFixed(2).padStart(7)} ms`);
}

const diagnostics = validateGraph(graph, registry);
if (diagnostics.length > 0) throw new Error(`bench graph invalid: ${JSON.stringify(diagnostics[0])}`);
console.log(
  `graph: ${graph.nodes.length} nodes, ${graph.edges.length} edges, ${(text.length / 1024).toFixed(0)} KB of JSON`,
);
measure('validateGraph (1,000 nodes)', () => validateGraph(graph, registry));
measure('loadGraph (parse + schema, 1,000 nodes)', () => loadGraph(text));
measure('loadGraph + validateGraph', () => validateGraph(loadGraph(text).graph!, registry));

console.log('time to reject bad graphs:');
const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
measure('  10,000-deep nesting (GRAPH_INVALID)', () => loadGraph(deep));
const huge = `{"format":"coser-graph","version":1,"nodes":[],"description":"${'x'.repeat(10 * 1024 * 1024)}"}`;
measure('  10 MB file (GRAPH_TOO_LARGE)', () => loadGraph(huge));
const cyclic = {
  ...graph,
  edges: [...graph.edges, { from: { node: `n${NODES - 1}`, port: 'image' }, to: { node: 'n0', port: 'a' } }],
};
measure('  cycle through 999 nodes (GRAPH_CYCLE)', () => validateGraph(cyclic, registry));
const many = {
  ...graph,
  nodes: Array.from({ length: 10_000 }, (_, i) => ({ id: `m${i}`, type: 'bench.source', typeVersion: 1, params: {} })),
  edges: [],
  inputs: {},
};
const manyText = JSON.stringify(many);
measure('  10,000 nodes (load, then GRAPH_TOO_LARGE)', () => validateGraph(loadGraph(manyText).graph!, registry), 20);
