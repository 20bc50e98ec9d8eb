// `npm run bench -- coser-sampler [--steps N] [--size PX]`
//
// 1. Sampler overhead: the time All-in-Attention Sample spends outside the network calls (schedule, noise, guidance,
//    tile crops and blending, tensor wrapping) per step, against the time inside the networks (contract models,
//    onnxruntime-node CPU). The contract models are tiny, so this ratio is a pessimistic upper bound of the
//    overhead with the real networks (each real UNet-AiA call is seconds, not milliseconds).
// 2. End to end: the whole coser-x4 pipeline at 50 steps on a 32 px LR with the contract set.
// 3. Peak memory (max RSS of a fresh process) of untiled vs tiled sampling at the same output size.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  aiaSample,
  applyGuidance,
  cognitiveEncode,
  createGaussianRng,
  generateReference,
  loadModelSet,
  preSr,
  respaceSchedule,
  sample,
  textContext,
  vaeDecode,
  vaeEncode,
} from '@coser/nodes';
import { createNodeHost, writeContractModelSet } from '@coser/nodes/node';
import {
  CoserError,
  createImage,
  DEFAULT_LIMITS,
  type ExecuteContext,
  float32Tensor,
  type ImageBuffer,
  type InferenceBackend,
} from '@coser/runtime';
import { createNodeBackend } from '@coser/runtime/backend-node';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};

/** A backend that adds up the wall time spent inside session.run. */
function timedBackend(inner: InferenceBackend) {
  const stats = { runMs: 0, runs: 0, loadMs: 0 };
  const backend: InferenceBackend = {
    name: inner.name,
    async load(source) {
      const t0 = performance.now();
      const session = await inner.load(source);
      stats.loadMs += performance.now() - t0;
      return {
        ...session,
        inputs: session.inputs,
        outputs: session.outputs,
        async run(feeds, options) {
          const t = performance.now();
          try {
            return await session.run(feeds, options);
          } finally {
            stats.runMs += performance.now() - t;
            stats.runs++;
          }
        },
      };
    },
    release: (key) => inner.release(key),
    releaseAll: () => inner.releaseAll(),
  };
  return { backend, stats };
}

function context(host: ExecuteContext['host'], backend: InferenceBackend): ExecuteContext {
  const signal = new AbortController().signal;
  return {
    node: 'bench',
    signal,
    backend,
    host,
    limits: DEFAULT_LIMITS,
    run: {
      runId: 'bench',
      graph: { format: 'coser-graph', version: 1, name: 'bench', description: '', nodes: [], edges: [], inputs: {} },
      graphHash: '',
    },
    progress() {},
    preview() {},
    throwIfCancelled() {
      if (signal.aborted) throw new CoserError('CANCELLED', 'cancelled');
    },
  };
}

function image(size: number): ImageBuffer {
  const data = new Float32Array(size * size * 3);
  for (let i = 0; i < data.length; i++) data[i] = 0.5 + 0.4 * Math.sin(i / 7) * Math.cos(i / 131);
  return createImage(size, size, 3, data);
}

async function setup(root: string, channels: number) {
  const modelsDir = path.join(root, 'models');
  await writeContractModelSet(path.join(modelsDir, 'contract'), { channels, tokens: 16, seed: 1 });
  const host = createNodeHost({ inputRoots: [root], outputDir: path.join(root, 'out'), modelsDir });
  return host;
}

async function prepare(ctx: ExecuteContext, lr: ImageBuffer) {
  const { set } = await loadModelSet.execute({}, { set: 'contract' }, ctx);
  const text = await textContext.execute({ set }, { prompt: '', negativePrompt: '' }, ctx);
  const { image: sr } = await preSr.execute({ set, image: lr }, {}, ctx);
  const { cognitive } = await cognitiveEncode.execute({ set, image: sr }, {}, ctx);
  const { latent } = await vaeEncode.execute({ set, image: lr }, {}, ctx);
  return { set, ...text, cognitive, latent };
}

const sampling = (steps: number) => ({ steps, sampler: 'ddpm' as const, guidance: 3, seed: 1, previewEvery: 0 });

async function overhead(root: string) {
  const steps = flag('steps', 50);
  const host = await setup(root, 8);
  console.log(`\n1. sampler overhead per step (All-in-Attention Sample, ${steps} steps, contract models, 1 thread)`);
  console.log('   LR px | latent | tiles | steps | network ms/step | outside ms/step | overhead');
  for (const [size, tiled, tile] of [
    [32, false, 64],
    [128, false, 64],
    [128, true, 32],
  ] as const) {
    const { backend, stats } = timedBackend(createNodeBackend({ intraOpThreads: 1 }));
    const ctx = context(host, backend);
    const inputs = await prepare(ctx, image(size));
    const n = size === 32 ? steps : Math.max(4, Math.round(steps / 5));
    // Warm-up: loads the sessions once (and lets onnxruntime settle its arenas).
    await aiaSample.execute(
      { ...inputs, reference: inputs.latent },
      { ...sampling(2), tiled, tileSize: tile, tileOverlap: tile / 2 },
      ctx,
    );
    stats.runMs = 0;
    stats.loadMs = 0;
    const t0 = performance.now();
    await aiaSample.execute(
      { ...inputs, reference: inputs.latent },
      { ...sampling(n), tiled, tileSize: tile, tileOverlap: tile / 2 },
      ctx,
    );
    const total = performance.now() - t0;
    const outside = total - stats.runMs - stats.loadMs;
    const latent = (size * 4) / 8;
    const tiles = tiled ? (Math.ceil((latent - tile) / (tile / 2)) + 1) ** 2 : 1;
    console.log(
      `   ${String(size).padStart(5)} | ${String(latent).padStart(6)} | ${String(tiles).padStart(5)} | ${String(n).padStart(5)} | ` +
        `${(stats.runMs / n).toFixed(2).padStart(15)} | ${(outside / n).toFixed(2).padStart(15)} | ${((100 * outside) / stats.runMs).toFixed(1)}%`,
    );
    await backend.releaseAll();
  }
}

/** The sampler loop alone (x0, update, noise, guidance) with an instant network, per latent size. */
async function pureSampler() {
  console.log('\n1b. sampler loop alone (instant network; DDPM update + noise + one guidance combine), ms/step');
  for (const latent of [16, 64, 128]) {
    const n = 4 * latent * latent;
    const cond = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
    const uncond = Float32Array.from({ length: n }, (_, i) => Math.cos(i));
    const out = new Float32Array(n);
    const steps = 50;
    const run = () =>
      sample({
        schedule: respaceSchedule(steps),
        start: cond,
        rng: createGaussianRng(1),
        predictEps: async () => applyGuidance(cond, uncond, 3, out),
      });
    await run();
    const t0 = performance.now();
    await run();
    console.log(`   latent ${String(latent).padStart(3)}: ${((performance.now() - t0) / steps).toFixed(3)} ms/step`);
  }
}

async function endToEnd(root: string) {
  const host = await setup(root, 8);
  const { backend, stats } = timedBackend(createNodeBackend({ intraOpThreads: 1 }));
  const ctx = context(host, backend);
  const lr = image(32);
  const t0 = performance.now();
  const inputs = await prepare(ctx, lr);
  const { reference } = await generateReference.execute(inputs, sampling(50), ctx);
  const { latent } = await aiaSample.execute(
    { ...inputs, reference },
    { ...sampling(50), tiled: false, tileSize: 64, tileOverlap: 32 },
    ctx,
  );
  await vaeDecode.execute({ set: inputs.set, latent, lr }, { decoder: 'cfw', fusion: 0.5, colorFix: 'none' }, ctx);
  const total = performance.now() - t0;
  console.log(
    `\n2. whole coser-x4 pipeline, 32 px LR, 50 + 50 steps, contract models: ${(total / 1000).toFixed(2)} s ` +
      `(${stats.runs} network calls, ${(stats.runMs / 1000).toFixed(2)} s inside them, ${(stats.loadMs / 1000).toFixed(2)} s loading)`,
  );
  await backend.releaseAll();
}

/**
 * Child mode: one sampling run in a fresh process, then its max RSS. The inputs are made without running the heavy
 * stages (random latent, contract text tokens), so the max RSS before sampling is the baseline.
 */
async function child(root: string, mode: string, size: number) {
  const host = await setup(root, 32);
  const backend = createNodeBackend({ intraOpThreads: 1 });
  const ctx = context(host, backend);
  const { set } = await loadModelSet.execute({}, { set: 'contract' }, ctx);
  const { positive, negative } = await textContext.execute({ set }, { prompt: '', negativePrompt: '' }, ctx);
  const latentSize = (size * 4) / 8;
  const noise = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.8);
  const latent = float32Tensor([1, 4, latentSize, latentSize], noise(4 * latentSize * latentSize));
  const cognitive = float32Tensor([1, 50, 16], noise(50 * 16));
  const before = process.resourceUsage().maxRSS;
  await aiaSample.execute(
    { set, latent, reference: latent, positive, negative, cognitive },
    { ...sampling(2), tiled: mode === 'tiled', tileSize: 64, tileOverlap: 32 },
    ctx,
  );
  console.log(JSON.stringify({ before, after: process.resourceUsage().maxRSS }));
}

async function memory() {
  const size = flag('size', 384);
  const latent = (size * 4) / 8;
  console.log(
    `\n3. peak memory, All-in-Attention Sample on a ${size} px LR (${size * 4} px out, latent ${latent}), channels 32`,
  );
  const self = fileURLToPath(import.meta.url);
  const results: Record<string, { before: number; after: number }> = {};
  for (const mode of ['untiled', 'tiled']) {
    const run = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', mode, '--size', String(size)], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    const line = run.stdout.trim().split('\n').pop() ?? '';
    if (run.status !== 0 || !line.startsWith('{')) {
      console.log(`   ${mode}: failed (${run.stderr.trim().split('\n').pop()})`);
      continue;
    }
    results[mode] = JSON.parse(line);
    const r = results[mode]!;
    console.log(
      `   ${mode.padEnd(8)} max RSS ${(r.after / 1024).toFixed(0)} MB (${(r.before / 1024).toFixed(0)} MB before sampling)`,
    );
  }
  if (results['untiled'] && results['tiled']) {
    const grow = (r: { before: number; after: number }) => Math.max(1, r.after - r.before);
    console.log(
      `   sampling's own peak: tiled/untiled = ${(grow(results['tiled']) / grow(results['untiled'])).toFixed(2)}`,
    );
  }
}

const root = await mkdtemp(path.join(tmpdir(), 'coser-bench-'));
try {
  if (args[0] === '--child') {
    await child(root, args[1] ?? 'untiled', flag('size', 384));
  } else {
    await overhead(root);
    await pureSampler();
    await endToEnd(root);
    await memory();
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
