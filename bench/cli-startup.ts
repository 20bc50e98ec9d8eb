// What does the `coser` command line cost on top of the work it does? Wall time (median of N) of each command as
// a child process, against two baselines measured in the same run: a bare `node -e ""` start, and the same graph
// run in process with executeGraph (what `coser run` adds is then start-up + loading + reporting). Each command is
// timed twice: from the bundle npm install builds (dist/cli) and from the TypeScript sources through tsx
// (COSER_NO_BUNDLE=1, what an edited checkout runs).
// Run: npm run bench -- cli-startup [ITERATIONS=7]
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { applyGraphInputs, executeGraph, loadGraph } from '@coser/runtime';
import { createLocalEnvironment } from '@coser/server';
import { freshBundle } from '../packages/server/bin/fresh-bundle.js';

const ITERATIONS = Number(process.argv[2] ?? 7);
const REPO = path.join(import.meta.dirname, '..');
const BIN = path.join(REPO, 'packages/server/bin/coser.js');
const PRESET = path.join(REPO, 'graphs/resize-and-fix.json');
const SAMPLE = path.join(REPO, 'graphs/samples/astronaut-lr.png');
const out = await mkdtemp(path.join(os.tmpdir(), 'coser-bench-cli-'));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function timeCommand(args: readonly string[], env: Record<string, string> = {}): number {
  const times: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const started = performance.now();
    const result = spawnSync(process.execPath, args, {
      cwd: REPO,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...env },
    });
    times.push(performance.now() - started);
    if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  }
  return median(times);
}

async function timeInProcess(): Promise<number> {
  const { graph } = loadGraph(await readFile(PRESET, 'utf8'));
  if (!graph) throw new Error('preset did not load');
  const { graph: ready } = applyGraphInputs(graph, { inputs: { image: SAMPLE } });
  const times: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    // A fresh environment each time, as each CLI invocation has: no cached node outputs.
    const env = createLocalEnvironment({ outputDir: out, inputRoots: [path.dirname(SAMPLE)] });
    const started = performance.now();
    const result = await executeGraph(ready, env);
    times.push(performance.now() - started);
    if (result.status !== 'done') throw new Error(`in-process run ended ${result.status}`);
  }
  return median(times);
}

try {
  const node = timeCommand(['-e', '']);
  const inProcess = await timeInProcess();
  const commands: [string, string[]][] = [
    ['coser --help', [BIN, '--help']],
    ['coser nodes --json', [BIN, 'nodes', '--json']],
    ['coser validate resize-and-fix', [BIN, 'validate', PRESET]],
    ['coser run resize-and-fix (64 px)', [BIN, 'run', PRESET, '-i', `image=${SAMPLE}`, '-o', out]],
  ];
  const bundle = freshBundle(path.join(REPO, 'packages/server/dist/cli'), path.join(REPO, 'packages/server'));
  if (!bundle.fresh) console.log(`no usable bundle (${bundle.reason}): run npm run build first`);
  console.log(`median of ${ITERATIONS} runs each`);
  console.log(`baseline: node -e ""                 ${node.toFixed(0).padStart(6)} ms`);
  console.log(`baseline: executeGraph in process    ${inProcess.toFixed(0).padStart(6)} ms`);
  console.log(`${''.padEnd(36)} ${'bundle'.padStart(9)} ${'sources'.padStart(9)}  sources/bundle`);
  let runs: [number, number] = [Number.NaN, Number.NaN];
  for (const [label, args] of commands) {
    const fromBundle = bundle.fresh ? timeCommand(args) : Number.NaN;
    const fromSources = timeCommand(args, { COSER_NO_BUNDLE: '1' });
    runs = [fromBundle, fromSources];
    console.log(
      `${label.padEnd(36)} ${fromBundle.toFixed(0).padStart(6)} ms ${fromSources.toFixed(0).padStart(6)} ms  ` +
        `${(fromSources / fromBundle).toFixed(2)}x`,
    );
  }
  console.log(
    `coser run overhead over executeGraph: ${(runs[0] - inProcess).toFixed(0)} ms (bundle), ` +
      `${(runs[1] - inProcess).toFixed(0)} ms (sources)`,
  );
} finally {
  await rm(out, { recursive: true, force: true });
}
