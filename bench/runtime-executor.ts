// Executor overhead per node: a chain of 200 trivial nodes through executeGraph, against calling the same node
// functions directly in a loop. Prints µs/node both ways and the ratio (with and without an output cache).
import { createOutputCache, createRegistry, defineNode, executeGraph, type GraphFile, port } from '@coser/runtime';
import { z } from 'zod';

const CHAIN = 200;
const REPEATS = Number(process.argv[2] ?? 50);

const increment = defineNode({
  type: 'bench.increment',
  typeVersion: 1,
  title: 'Increment',
  category: 'bench',
  description: 'value + step',
  inputs: { value: port.number({ optional: true }) },
  outputs: { value: port.number() },
  params: z.object({ step: z.number().min(0).max(10).default(1).describe('Step') }),
  async execute({ value }, params) {
    return { value: (value ?? 0) + params.step };
  },
});

const graph: GraphFile = {
  format: 'coser-graph',
  version: 1,
  name: 'chain',
  description: '',
  nodes: Array.from({ length: CHAIN }, (_, i) => ({
    id: `n${i}`,
    type: 'bench.increment',
    typeVersion: 1,
    params: { step: 1 },
  })),
  edges: Array.from({ length: CHAIN - 1 }, (_, i) => ({
    from: { node: `n${i}`, port: 'value' },
    to: { node: `n${i + 1}`, port: 'value' },
  })),
  inputs: {},
};

const registry = createRegistry([increment]);
const refuse = async (): Promise<never> => {
  throw new Error('unused');
};
const host = { readInput: refuse, writeOutput: refuse, decodeImage: refuse, encodeImage: refuse, resolveModel: refuse };
const backend = { name: 'none', load: refuse, release: async () => {}, releaseAll: async () => {} };

async function direct(): Promise<number> {
  // The first node has no input; the port is optional, which the node handles (`value ?? 0`).
  let value = undefined as unknown as number;
  for (let i = 0; i < CHAIN; i++) {
    const params = increment.params.parse(graph.nodes[i]!.params);
    value = (await increment.execute({ value }, params, undefined as never)).value;
  }
  return value;
}

async function timeIt(label: string, run: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 3; i++) await run(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  console.log(
    `${label.padEnd(34)} ${((median * 1000) / CHAIN).toFixed(2).padStart(8)} µs/node  (median of ${REPEATS} runs of ${CHAIN} nodes)`,
  );
  return median;
}

const env = { registry, host, backend };
const check = await executeGraph(graph, env);
if (check.status !== 'done' || check.values.get(`n${CHAIN - 1}`)?.['value'] !== CHAIN)
  throw new Error('bench graph failed');

const baseline = await timeIt('direct calls (zod parse + execute)', direct);
const plain = await timeIt('executeGraph, no cache', () => executeGraph(graph, env));
const cache = createOutputCache();
const cached = await timeIt('executeGraph, cache (all hits)', () => executeGraph(graph, { ...env, cache }));
console.log(
  `ratio executor/direct: ${(plain / baseline).toFixed(1)}x without cache, ${(cached / baseline).toFixed(1)}x with a warm cache`,
);
console.log(
  `executor overhead: ${(((plain - baseline) * 1000) / CHAIN).toFixed(2)} µs/node (validation, planning, events, hashing the graph)`,
);
