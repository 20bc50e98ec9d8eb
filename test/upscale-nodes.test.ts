// The Load Model and Upscale Image nodes on a real converted model (esrgan-slim-x2, small inputs): tiling seams,
// grey and alpha handling, provenance, progress, limits, and model problems caught at validation.
import path from 'node:path';
import {
  type CheckContext,
  CoserError,
  checkGraph,
  createImage,
  DEFAULT_LIMITS,
  executeGraph,
  type GraphFile,
  type ImageBuffer,
} from '@coser/runtime';
import { createLocalEnvironment } from '@coser/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resamplePlane } from '../packages/nodes/src/lib/resample';
import { loadModel } from '../packages/nodes/src/upscale/load-model';
import { SAMPLES_DIR } from './helpers/paths';
import { makeTempDir } from './helpers/temp-dir';
import { createUpscaleHarness, type UpscaleHarness } from './upscale-helpers';

const MODEL = 'esrgan-slim-x2';
let harness: UpscaleHarness;
let dir = '';
let remove: () => Promise<void> = async () => {};
let photo: ImageBuffer;

beforeAll(async () => {
  ({ dir, remove } = await makeTempDir('coser-upscale-'));
  harness = await createUpscaleHarness(dir, [MODEL]);
  const lr = await harness.decode(path.join(SAMPLES_DIR, 'chelsea-lr.png'));
  // 100x76: large enough for several 64 px tiles, not square, not a multiple of the tile size.
  const data = new Float32Array(100 * 76 * 3);
  for (let c = 0; c < 3; c++)
    data.set(
      resamplePlane(lr.data.subarray(c * 64 * 64, (c + 1) * 64 * 64), 64, 64, 100, 76, { filter: 'bicubic' }),
      c * 100 * 76,
    );
  photo = createImage(100, 76, 3, data);
});
afterAll(async () => {
  await harness?.backend.releaseAll();
  await remove();
});

function diff(a: Float32Array, b: Float32Array): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / a.length };
}

describe('Upscale Image', () => {
  it('tiles without visible seams and reports progress per tile', async () => {
    const whole = await harness.run(photo, { model: MODEL, tileSize: 2048 });
    const progress: number[][] = [];
    const tiled = await harness.run(
      photo,
      { model: MODEL, tileSize: 64, overlap: 16 },
      { progress: (v, m) => progress.push([v, m]) },
    );
    expect([tiled.width, tiled.height, tiled.channels]).toEqual([200, 152, 3]);
    expect(progress.at(-1)).toEqual([4, 4]);
    const d = diff(tiled.data, whole.data);
    // Tiles see less context than the whole image, so a little difference is expected near the seams only.
    expect(d.mean).toBeLessThan(0.002);
    expect(d.max).toBeLessThan(0.05);
    expect(tiled.meta?.tiles).toEqual({ size: 64, overlap: 16 });
    const record = await harness.host.resolveModel(MODEL);
    expect(tiled.meta?.models).toEqual([{ name: MODEL, sha256: record.source.sha256 }]);
  });

  it('keeps grayscale images grayscale', async () => {
    const size = 40 * 30;
    const crop = createImage(40, 30, 1, new Float32Array(size));
    for (let y = 0; y < 30; y++) crop.data.set(photo.data.subarray(y * 100, y * 100 + 40), y * 40);
    const out = await harness.run(crop, { model: MODEL });
    expect([out.width, out.height, out.channels]).toEqual([80, 60, 1]);
    const mean = out.data.reduce((a, b) => a + b, 0) / out.data.length;
    const inMean = crop.data.reduce((a, b) => a + b, 0) / size;
    expect(Math.abs(mean - inMean)).toBeLessThan(0.02);
  });

  it('upscales alpha separately and keeps it (bicubic and by the model)', async () => {
    const w = 32;
    const h = 24;
    const data = new Float32Array(w * h * 4);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < h; y++)
        data.set(photo.data.subarray(c * 7600 + y * 100, c * 7600 + y * 100 + w), (c * h + y) * w);
    for (let i = 0; i < w * h; i++) data[3 * w * h + i] = (i % w) / (w - 1); // a horizontal alpha ramp
    const rgba = createImage(w, h, 4, data);
    const bicubic = await harness.run(rgba, { model: MODEL, alpha: 'bicubic' });
    expect(bicubic.channels).toBe(4);
    const alpha = bicubic.data.subarray(3 * 4 * w * h);
    const expected = resamplePlane(data.subarray(3 * w * h), w, h, 2 * w, 2 * h, { filter: 'bicubic' }).map((v) =>
      Math.min(1, Math.max(0, v)),
    );
    expect(diff(alpha, expected).max).toBeLessThan(1e-6);
    const byModel = await harness.run(rgba, { model: MODEL, alpha: 'model' });
    const alpha2 = byModel.data.subarray(3 * 4 * w * h);
    expect(Math.min(...alpha2)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...alpha2)).toBeLessThanOrEqual(1);
    expect(diff(alpha2, expected).mean).toBeLessThan(0.02);
    // The colour planes do not depend on how alpha was upscaled.
    expect(diff(byModel.data.subarray(0, 3 * 4 * w * h), bicubic.data.subarray(0, 3 * 4 * w * h)).max).toBe(0);
  });

  it('refuses an output over the pixel cap before running', async () => {
    const error = await harness.run(photo, { model: MODEL }, { limits: { maxPixels: 100 * 76 * 3 } }).catch((e) => e);
    expect(error).toBeInstanceOf(CoserError);
    expect((error as CoserError).code).toBe('IMAGE_TOO_LARGE');
  });

  it('needs a model from the input or the param', async () => {
    const error = await harness.run(photo, {}).catch((e) => e);
    expect((error as CoserError).code).toBe('INPUT_UNCONNECTED');
  });
});

describe('model problems are caught at validation', () => {
  const graph = (model: string, wired: boolean): GraphFile => ({
    format: 'coser-graph',
    version: 1,
    name: 'upscale',
    description: '',
    nodes: [
      {
        id: 'load',
        type: 'io.loadImage',
        typeVersion: 1,
        params: { path: path.join(SAMPLES_DIR, 'astronaut-lr.png') },
      },
      ...(wired ? [{ id: 'model', type: 'upscale.loadModel', typeVersion: 1, params: { model } }] : []),
      { id: 'up', type: 'upscale.upscaleImage', typeVersion: 1, params: wired ? {} : { model } },
      { id: 'save', type: 'io.saveImage', typeVersion: 1, params: { filename: 'x' } },
    ],
    edges: [
      { from: { node: 'load', port: 'image' }, to: { node: 'up', port: 'image' } },
      ...(wired ? [{ from: { node: 'model', port: 'model' }, to: { node: 'up', port: 'model' } }] : []),
      { from: { node: 'up', port: 'image' }, to: { node: 'save', port: 'image' } },
    ],
    inputs: {},
  });

  const env = () =>
    createLocalEnvironment({
      modelsDir: harness.modelsDir,
      outputDir: path.join(dir, 'out'),
      inputRoots: [SAMPLES_DIR],
    });

  for (const wired of [false, true]) {
    it(`MODEL_MISSING names the install command (${wired ? 'Load Model node' : 'model param'})`, async () => {
      const e = env();
      const diagnostics = await checkGraph(graph('esrgan-thick-x4', wired), e.registry, {
        host: e.host,
        limits: e.limits,
      });
      const missing = diagnostics.find((d) => d.code === 'MODEL_MISSING');
      expect(missing?.node).toBe(wired ? 'model' : 'up');
      expect(missing?.message).toContain('npx coser models add esrgan-thick-x4');
    });
  }

  it('INPUT_UNCONNECTED at validation when neither a model input nor the model param is given', async () => {
    const e = env();
    const context = { host: e.host, limits: e.limits };
    const diagnostics = await checkGraph(graph('', false), e.registry, context);
    expect(diagnostics).toEqual([
      expect.objectContaining({ severity: 'error', code: 'INPUT_UNCONNECTED', node: 'up', port: 'model' }),
    ]);
    // Wired to a Load Model node, the empty param is fine.
    expect(await checkGraph(graph(MODEL, true), e.registry, context)).toEqual([]);
  });

  it('a graph with a Load Model node runs and records the model', async () => {
    const e = env();
    const result = await executeGraph(graph(MODEL, true), e);
    expect(result.status).toBe('done');
    const image = result.values.get('up')?.['image'] as ImageBuffer;
    expect([image.width, image.height]).toEqual([128, 128]);
    expect(image.meta?.models?.[0]?.name).toBe(MODEL);
    await e.backend.releaseAll();
  });

  it('MODEL_INCOMPATIBLE for a model that is not RGB super-resolution', async () => {
    const ctx = {
      limits: DEFAULT_LIMITS,
      host: { resolveModel: async () => ({ source: { key: 'k', name: 'x' }, entry: { task: 'depth', channels: 1 } }) },
    } as unknown as CheckContext;
    const diagnostics = await loadModel.check!({ model: 'x' }, ctx);
    expect(diagnostics.map((d) => d.code)).toEqual(['MODEL_INCOMPATIBLE']);
  });
});
