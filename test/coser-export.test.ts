/**
 * tools/coser-export end to end: `export_coser_set.py --tiny` (reduced-width random modules built from the
 * reproduction's own classes) -> `coser validate` (the tool runs it) -> a 4-step `coser run` of graphs/coser-x4.json
 * on a 64 px photo -> parity of every ONNX file with its torch module, and of every stage of the studio's pipeline
 * with the reproduction's scripts/inference.py (tools/coser-export/torch_reference.py, same noise stream).
 *
 * It needs what the tool needs, so it runs only where they are: COSER_REPRO_DIR = a clone of TianheWu/CoSeR, a
 * Python with torch and onnx (COSER_PYTHON, else python3 or /usr/bin/python3; Debian: apt-get install python3-torch
 * python3-onnx python3-torchvision python3-omegaconf python3-regex python3-tqdm) and open_clip 2.20.0 importable
 * (installed, or its source folder in COSER_OPEN_CLIP_SRC). Otherwise it is skipped and says why.
 * COSER_EXPORT_DIR=DIR works in DIR and keeps it; a set and torch references already there are reused (the export
 * of the tiny UNet-AiA alone takes minutes of CPU), so the parity checks can be re-run quickly.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExecuteContext, Tensor } from '@coser/runtime';
import { DEFAULT_LIMITS } from '@coser/runtime';
import { createNodeBackend } from '@coser/runtime/backend-node';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiaSample } from '../packages/nodes/src/coser/aia-sample';
import { cognitiveEncode } from '../packages/nodes/src/coser/cognitive-encode';
import { generateReference } from '../packages/nodes/src/coser/generate-reference';
import { loadModelSet } from '../packages/nodes/src/coser/load-model-set';
import { preSr } from '../packages/nodes/src/coser/pre-sr';
import { textContext } from '../packages/nodes/src/coser/text-context';
import { vaeDecode } from '../packages/nodes/src/coser/vae-decode';
import { vaeEncode } from '../packages/nodes/src/coser/vae-encode';
import { createNodeHost } from '../packages/nodes/src/host/node-host';
import { loadImage } from '../packages/nodes/src/io/load-image';
import { testContext } from './coser-fixtures';
import { pngSize } from './helpers/images';
import { REPO_ROOT, SAMPLES_DIR } from './helpers/paths';
import { runCli } from './helpers/run-cli';
import { makeTempDir } from './helpers/temp-dir';

const REPRO = process.env.COSER_REPRO_DIR ?? '';
const TOOL = path.join(REPO_ROOT, 'tools', 'coser-export');
const PYTHONPATH = [process.env.COSER_OPEN_CLIP_SRC, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter);
const PHOTO = path.join(SAMPLES_DIR, 'astronaut-lr.png'); // 64 x 64
const TOLERANCE = 1e-4;
const KEEP_DIR = process.env.COSER_EXPORT_DIR ?? '';

/** The first Python that imports torch, onnx and open_clip 2.20.0, or why there is none. */
function findPython(): { python?: string; reason?: string } {
  if (!REPRO) return { reason: 'COSER_REPRO_DIR is not set (a clone of github.com/TianheWu/CoSeR)' };
  if (!existsSync(path.join(REPRO, 'ldm', 'models', 'diffusion', 'ddpm.py'))) {
    return { reason: `COSER_REPRO_DIR=${REPRO} is not a clone of the CoSeR reproduction` };
  }
  const probe = 'import torch, onnx\nfrom open_clip import version\nprint(version.__version__)';
  let last = '';
  for (const python of [process.env.COSER_PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean) as string[]) {
    const r = spawnSync(python, ['-c', probe], { env: { ...process.env, PYTHONPATH }, encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim() === '2.20.0') return { python };
    last = r.status === 0 ? `open_clip ${r.stdout.trim()} (2.20.0 needed)` : (r.stderr || String(r.error)).trim();
    last = `${python}: ${last.split('\n').at(-1)}`;
  }
  return { reason: `no Python with torch, onnx and open_clip 2.20.0 (${last})` };
}

const { python, reason } = findPython();
if (reason) console.info(`test/coser-export.test.ts is skipped: ${reason}`);

function runPython(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; output: string; seconds: number }>((resolve, reject) => {
    const started = Date.now();
    const child = spawn(python!, args, { cwd: REPO_ROOT, env: { ...process.env, PYTHONPATH, ...env } });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output, seconds: (Date.now() - started) / 1000 }));
  });
}

interface BinInfo {
  file: string;
  dtype: 'float32' | 'int64';
  shape: number[];
}

async function readBin(file: string, info: BinInfo): Promise<Tensor> {
  const bytes = await readFile(file);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return info.dtype === 'int64'
    ? { dtype: 'int64', dims: info.shape, data: new BigInt64Array(buffer) }
    : { dtype: 'float32', dims: info.shape, data: new Float32Array(buffer) };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe.skipIf(Boolean(reason))(`tools/coser-export${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let dir = '';
  let remove: () => Promise<void> = async () => {};
  const setDir = () => path.join(dir, 'models', 'tiny');
  const refDir = () => path.join(dir, 'torch');

  beforeAll(async () => {
    if (KEEP_DIR) await mkdir((dir = KEEP_DIR), { recursive: true });
    else ({ dir, remove } = await makeTempDir('coser-export-'));
  });
  afterAll(() => remove());

  it('exports a --tiny set that `coser validate` accepts (external data on the larger files)', async () => {
    const reuse = KEEP_DIR && existsSync(path.join(setDir(), 'coser-set.json'));
    if (reuse) console.info(`reusing the set in ${setDir()}`);
    const exported = reuse
      ? await runCli(['validate', path.join(REPO_ROOT, 'graphs', 'coser-x4.json'), '--models', setDir()]).then((r) => ({
          code: r.code,
          output: r.stdout + r.stderr + '\nwrote (reused) 0 files',
          seconds: 0,
        }))
      : await runPython(
          [path.join(TOOL, 'export_coser_set.py'), '--repo', REPRO, '--out', setDir(), '--tiny'],
          // Past 8 MB a model gets a .data file here (2 GB for real sets), so that path is exercised too.
          { COSER_EXPORT_EXTERNAL_DATA_MIN_BYTES: '8000000' },
        );
    console.info(`export_coser_set.py --tiny: ${exported.seconds.toFixed(1)} s`);
    expect(exported.code, exported.output).toBe(0);
    expect(exported.output).toMatch(/wrote \d+ files/);
    const manifest = JSON.parse(await readFile(path.join(setDir(), 'coser-set.json'), 'utf8'));
    expect(manifest.files['unet_aia.onnx.data']).toMatchObject({ kind: 'data' });
    expect(manifest.files['vae_encoder.onnx'].outputs[0].shape).toEqual([1, 4, 'H/8', 'W/8']);
    if (KEEP_DIR && existsSync(path.join(refDir(), 'pipeline.json'))) return;
    const reference = await runPython(
      [path.join(TOOL, 'torch_reference.py'), '--repo', REPRO, '--image', PHOTO, '--out', refDir()],
      {},
    );
    expect(reference.code, reference.output).toBe(0);
  }, 3_600_000);

  it('matches every torch module to 1e-4 in onnxruntime, at sizes other than the traced ones', async () => {
    const index = JSON.parse(await readFile(path.join(refDir(), 'modules', 'index.json'), 'utf8')) as Record<
      string,
      { inputs: Record<string, BinInfo>; outputs: Record<string, BinInfo> }
    >;
    const worst: string[] = [];
    for (const [file, io] of Object.entries(index)) {
      const base = path.join(refDir(), 'modules', file);
      const session = await ort.InferenceSession.create(path.join(setDir(), file), { intraOpNumThreads: 1 });
      const feeds: Record<string, ort.Tensor> = {};
      for (const [name, info] of Object.entries(io.inputs)) {
        const t = await readBin(path.join(base, 'inputs', info.file), info);
        feeds[name] = new ort.Tensor(t.dtype, t.data as Float32Array, t.dims);
      }
      const out = await session.run(feeds);
      let fileWorst = 0;
      for (const [name, info] of Object.entries(io.outputs)) {
        const want = await readBin(path.join(base, 'outputs', info.file), info);
        expect(out[name]!.dims).toEqual(info.shape);
        fileWorst = Math.max(fileWorst, maxDiff(out[name]!.data as Float32Array, want.data as Float32Array));
      }
      worst.push(`${file} ${fileWorst.toExponential(1)}`);
      await session.release();
      expect(fileWorst, file).toBeLessThanOrEqual(TOLERANCE);
    }
    console.info(`ONNX vs torch, max |diff|: ${worst.join(', ')}`);
  }, 600_000);

  it('runs graphs/coser-x4.json for 4 steps on a 64 px photo with the set', async () => {
    const result = await runCli(
      [
        'run',
        path.join(REPO_ROOT, 'graphs', 'coser-x4.json'),
        '--models',
        setDir(),
        '--set',
        'reference.steps=4',
        '--set',
        'restore.steps=4',
        '--input',
        `image=${PHOTO}`,
        '--output',
        path.join(dir, 'out'),
      ],
      { cwd: dir, timeoutMs: 600_000 },
    );
    expect(result.code, result.stderr).toBe(0);
    const png = new Uint8Array(await readFile(path.join(dir, 'out', 'astronaut-lr-coser-x4.png')));
    expect(pngSize(png)).toEqual({ width: 256, height: 256 });
  }, 600_000);

  it("matches the reproduction's inference.py stage by stage (same noise stream)", async () => {
    const pipeline = JSON.parse(await readFile(path.join(refDir(), 'pipeline.json'), 'utf8')) as {
      steps: number;
      seed: number;
      outputs: Record<string, BinInfo>;
    };
    const want = async (name: string) =>
      (await readBin(path.join(refDir(), pipeline.outputs[name]!.file), pipeline.outputs[name]!)).data as Float32Array;
    const host = createNodeHost({
      inputRoots: [SAMPLES_DIR],
      outputDir: path.join(dir, 'out'),
      modelsDir: path.join(dir, 'models'),
    });
    const backend = createNodeBackend({ intraOpThreads: 1 });
    const ctx: ExecuteContext = { ...testContext(host, backend).ctx, limits: DEFAULT_LIMITS };
    try {
      const { image } = await loadImage.execute({}, { path: PHOTO }, ctx);
      const { set } = await loadModelSet.execute({}, { set: 'tiny' }, ctx);
      const { image: sr } = await preSr.execute({ set, image }, {}, ctx);
      const { cognitive } = await cognitiveEncode.execute({ set, image: sr }, {}, ctx);
      const { positive, negative } = await textContext.execute({ set }, { prompt: '', negativePrompt: '' }, ctx);
      const { latent } = await vaeEncode.execute({ set, image }, {}, ctx);
      const sampling = { steps: pipeline.steps, sampler: 'ddpm' as const, guidance: 3, seed: pipeline.seed };
      const tokens = { positive, negative, cognitive };
      const { reference } = await generateReference.execute(
        { set, latent, ...tokens },
        { ...sampling, previewEvery: 0 },
        ctx,
      );
      const { latent: restored } = await aiaSample.execute(
        { set, latent, reference, ...tokens },
        { ...sampling, previewEvery: 0, tiled: false, tileSize: 64, tileOverlap: 32 },
        ctx,
      );
      const { image: out } = await vaeDecode.execute(
        { set, latent: restored, lr: image },
        { decoder: 'cfw', fusion: 0.5, colorFix: 'none' },
        ctx,
      );
      const diffs: Record<string, number> = {
        presr: maxDiff(sr.data, await want('presr')),
        cognitive: maxDiff(cognitive.data, await want('cognitive')),
        latent: maxDiff(latent.data, await want('latent')),
        reference: maxDiff(reference.data, await want('reference')),
        restored: maxDiff(restored.data, await want('restored')),
        image: maxDiff(out.data, await want('image')),
      };
      console.info(
        `studio vs inference.py, max |diff|: ${Object.entries(diffs)
          .map(([k, v]) => `${k} ${v.toExponential(1)}`)
          .join(', ')}`,
      );
      for (const [stage, diff] of Object.entries(diffs)) expect(diff, stage).toBeLessThanOrEqual(TOLERANCE);
    } finally {
      await backend.releaseAll();
    }
  }, 600_000);
});
