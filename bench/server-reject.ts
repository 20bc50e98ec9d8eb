// How fast does the server turn away a bad graph? Submit -> ack (socket.io) and POST -> response (REST), p99 per
// case, against the same validation called in process (the engine's prepare) as the baseline.
// Run: node --import tsx bench/server-reject.ts [ITERATIONS=200]
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { GraphFile } from '@coser/runtime';
import { createDefaultEngine } from '../packages/server/src/server/default-engine';
import { call, connect, raw, startTestServer, tempDir } from '../test/server/helpers';

const ITERATIONS = Number(process.argv[2] ?? 200);
const REPO = join(import.meta.dirname, '..');

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const preset = JSON.parse(await readFile(join(REPO, 'graphs/resize-and-fix.json'), 'utf8')) as GraphFile;
const cyclic: GraphFile = {
  ...structuredClone(preset),
  nodes: [
    { id: 'a', type: 'image.resize', typeVersion: 1, params: {} },
    { id: 'b', type: 'image.resize', typeVersion: 1, params: {} },
  ],
  edges: [
    { from: { node: 'a', port: 'image' }, to: { node: 'b', port: 'image' } },
    { from: { node: 'b', port: 'image' }, to: { node: 'a', port: 'image' } },
  ],
  inputs: {},
};
const unknownType = structuredClone(preset);
unknownType.nodes[0]!.type = 'future.node';
const badParam = structuredClone(preset);
for (const node of badParam.nodes) if (node.type === 'image.resize') node.params['scale'] = -1;
const manyNodes: GraphFile = {
  ...structuredClone(preset),
  nodes: Array.from({ length: 10_000 }, (_, i) => ({ id: `n${i}`, type: 'image.resize', typeVersion: 1, params: {} })),
  edges: [],
  inputs: {},
};
const cases: [string, unknown][] = [
  ['not JSON', '{"format": "coser-graph", "nodes": ['],
  ['cycle', cyclic],
  ['unknown type', unknownType],
  ['__proto__ key', JSON.parse(JSON.stringify(preset).replace('"nodes"', '"__proto__": {"x": 1}, "nodes"'))],
  ['negative scale', badParam],
  ['10,000 nodes', manyNodes],
];

const dataDir = await tempDir('coser-bench-reject-');
const modelsDir = await tempDir('coser-bench-models-');
const t = await startTestServer({
  engine: undefined,
  modelsDir,
  dataDir,
  socket: { messagesPerSecond: 100_000, messageBurst: 100_000 },
  restPerSecond: 100_000,
});
const engine = createDefaultEngine({
  dataDir,
  uploadsDir: join(dataDir, 'uploads'),
  limits: { maxPixels: 8192 * 8192, memoryBudgetBytes: 2 ** 31 },
  modelsDir,
});
const socket = await connect(t.server);
const all: number[] = [];
console.log(`server-reject: ${ITERATIONS} submissions per case (times in ms)`);
console.log(
  `${'case'.padEnd(16)}${'code'.padEnd(20)}${'in-process p50/p99'.padEnd(22)}${'socket p50/p99'.padEnd(20)}REST p50/p99`,
);
for (const [name, graph] of cases) {
  const local: number[] = [];
  const viaSocket: number[] = [];
  const viaRest: number[] = [];
  let code = '';
  const body = JSON.stringify({ graph });
  for (let i = 0; i < ITERATIONS; i++) {
    let start = performance.now();
    const prepared = await engine.prepare({ graph });
    local.push(performance.now() - start);
    if (prepared.graph && !prepared.diagnostics.some((d) => d.severity === 'error')) throw new Error(`${name} passed`);
    start = performance.now();
    const ack = await call<{ ok: boolean; code: string }>(socket, 'run:submit', { graph });
    viaSocket.push(performance.now() - start);
    if (ack.ok) throw new Error(`${name} was accepted`);
    code = ack.code;
    start = performance.now();
    await raw(t.server, 'POST', '/api/runs', { headers: { 'content-type': 'application/json' }, body });
    viaRest.push(performance.now() - start);
  }
  for (const list of [local, viaSocket, viaRest]) list.sort((a, b) => a - b);
  all.push(...viaSocket, ...viaRest);
  const pair = (list: number[]) => `${percentile(list, 50).toFixed(2)}/${percentile(list, 99).toFixed(2)}`;
  console.log(
    `${name.padEnd(16)}${code.padEnd(20)}${pair(local).padEnd(22)}${pair(viaSocket).padEnd(20)}${pair(viaRest)}`,
  );
}

// A 10 MB body never reaches validation: the size cap answers first.
const huge = JSON.stringify({ graph: { ...preset, description: 'x'.repeat(10 * 1024 * 1024) } });
const hugeTimes: number[] = [];
for (let i = 0; i < 20; i++) {
  const start = performance.now();
  const res = await raw(t.server, 'POST', '/api/runs', { headers: { 'content-type': 'application/json' }, body: huge });
  hugeTimes.push(performance.now() - start);
  if (res.status !== 413) throw new Error(`10 MB body got ${res.status}`);
}
hugeTimes.sort((a, b) => a - b);
console.log(
  `10 MB body (REST, 20x): 413 PAYLOAD_TOO_LARGE, p50 ${percentile(hugeTimes, 50).toFixed(2)} ms, p99 ${percentile(hugeTimes, 99).toFixed(2)} ms`,
);
all.sort((a, b) => a - b);
const p99 = percentile(all, 99);
console.log(`all cases over socket + REST: p99 ${p99.toFixed(2)} ms (aim < 50 ms: ${p99 < 50 ? 'met' : 'NOT met'})`);
socket.close();
await t.server.close();
await rm(dataDir, { recursive: true, force: true });
await rm(modelsDir, { recursive: true, force: true });
