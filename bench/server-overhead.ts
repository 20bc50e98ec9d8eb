// What does going through the server cost per run? The same small graph (load 64x64 PNG -> resize x2 -> save PNG)
// run N times in process with executeGraph (baseline) and N times through the server (socket submit -> run:done
// received, with validation, queueing, SQLite event storage and the socket round trips).
// Run: node --import tsx bench/server-overhead.ts [RUNS=30]
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { GraphFile, RunEvent } from '@coser/runtime';
import { executeGraph } from '@coser/runtime';
import { createLocalEnvironment } from '../packages/server/src/environment';
import { call, connect, raw, startTestServer, tempDir } from '../test/server/helpers';

const RUNS = Number(process.argv[2] ?? 30);
const SAMPLE = join(import.meta.dirname, '../graphs/samples/astronaut-lr.png');

function graph(path: string): GraphFile {
  return {
    format: 'coser-graph',
    version: 1,
    name: 'overhead',
    description: '',
    nodes: [
      { id: 'load', type: 'io.loadImage', typeVersion: 1, params: { path } },
      { id: 'resize', type: 'image.resize', typeVersion: 1, params: { mode: 'scale', scale: 2 } },
      { id: 'save', type: 'io.saveImage', typeVersion: 1, params: { filename: 'out', format: 'png' } },
    ],
    edges: [
      { from: { node: 'load', port: 'image' }, to: { node: 'resize', port: 'image' } },
      { from: { node: 'resize', port: 'image' }, to: { node: 'save', port: 'image' } },
    ],
    inputs: {},
  };
}

function stats(times: number[]) {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
  return { p50: at(0.5), p90: at(0.9), mean: times.reduce((a, b) => a + b, 0) / times.length };
}

const work = await tempDir('coser-bench-overhead-');
const modelsDir = join(work, 'models');
const inputs = join(work, 'inputs');
await mkdir(inputs, { recursive: true });
await copyFile(SAMPLE, join(inputs, 'sample.png'));

// Baseline: one environment (shared output cache, as the server shares one), a fresh output folder per run.
// Run -1 is a warm-up (codec initialisation) and is not counted, on either side.
const shared = createLocalEnvironment({ modelsDir, outputDir: join(work, 'local', 'warm'), inputRoots: [inputs] });
const local: number[] = [];
for (let i = -1; i < RUNS; i++) {
  const env = createLocalEnvironment({
    modelsDir,
    outputDir: join(work, 'local', String(i)),
    inputRoots: [inputs],
    backend: shared.backend,
    cache: shared.cache,
    models: shared.models,
  });
  const start = performance.now();
  const result = await executeGraph(graph('sample.png'), env);
  if (i >= 0) local.push(performance.now() - start);
  if (result.status !== 'done') throw new Error(`local run ${i}: ${result.error?.message}`);
}

const t = await startTestServer({ engine: undefined, modelsDir, dataDir: join(work, 'server') });
const upload = await raw(t.server, 'POST', '/api/uploads', { body: await readFile(SAMPLE) });
const name = (upload.json() as { name: string }).name;
const socket = await connect(t.server);
const remote: number[] = [];
for (let i = -1; i < RUNS; i++) {
  const start = performance.now();
  const finished = new Promise<RunEvent>((resolve) => {
    const listener = (event: RunEvent) => {
      if (event.type === 'run:done' || event.type === 'run:error') {
        socket.off('run:event', listener);
        resolve(event);
      }
    };
    socket.on('run:event', listener);
  });
  const ack = await call<{ ok: boolean }>(socket, 'run:submit', { graph: graph(name) });
  if (!ack.ok) throw new Error(`server refused run ${i}`);
  const final = await finished;
  if (i >= 0) remote.push(performance.now() - start);
  if (final.type !== 'run:done') throw new Error(`server run ${i} failed`);
}
socket.close();
await t.server.close();

const a = stats(local);
const b = stats(remote);
console.log(`server-overhead: ${RUNS} runs of load 64x64 -> resize x2 -> save PNG (ms)`);
console.log(`in-process executeGraph  p50 ${a.p50.toFixed(2)}  p90 ${a.p90.toFixed(2)}  mean ${a.mean.toFixed(2)}`);
console.log(`through the server       p50 ${b.p50.toFixed(2)}  p90 ${b.p90.toFixed(2)}  mean ${b.mean.toFixed(2)}`);
console.log(`overhead per run: ${(b.p50 - a.p50).toFixed(2)} ms at p50 (ratio ${(b.p50 / a.p50).toFixed(2)}x)`);
await rm(work, { recursive: true, force: true });
