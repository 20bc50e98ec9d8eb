import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecuteContext, ModelSetRef, Tensor } from '@coser/runtime';
import { createImage, float32Tensor, migrateNodeParams } from '@coser/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiaSample } from '../packages/nodes/src/coser/aia-sample';
import { cognitiveEncode } from '../packages/nodes/src/coser/cognitive-encode';
import { diffuse } from '../packages/nodes/src/coser/diffuse';
import { generateReference } from '../packages/nodes/src/coser/generate-reference';
import { aiaEps } from '../packages/nodes/src/coser/guided-eps';
import { loadModelSet } from '../packages/nodes/src/coser/load-model-set';
import { inspectModelSet } from '../packages/nodes/src/coser/model-set';
import { preSr } from '../packages/nodes/src/coser/pre-sr';
import { runStage, withStage } from '../packages/nodes/src/coser/stage';
import { concatTokens } from '../packages/nodes/src/coser/tensors';
import { textContext } from '../packages/nodes/src/coser/text-context';
import { tiledSuperResolve } from '../packages/nodes/src/coser/tiled-super-resolve';
import { vaeDecode } from '../packages/nodes/src/coser/vae-decode';
import { encodeLatent, vaeEncode } from '../packages/nodes/src/coser/vae-encode';
import { contractModels, countingBackend, testContext, testImage } from './coser-fixtures';

type Fixture = Awaited<ReturnType<typeof contractModels>>;
let fx: Fixture;
let set: ModelSetRef;
const backend = countingBackend();
const lr = testImage(16, 16);
let ctx: ExecuteContext;
let tokens: { positive: Tensor<'float32'>; negative: Tensor<'float32'>; cognitive: Tensor<'float32'> };
let zLr: Tensor<'float32'>;

const sampling = { steps: 4, sampler: 'ddpm' as const, guidance: 3, seed: 5, previewEvery: 2 };
const tiling = { tiled: false, tileSize: 64, tileOverlap: 32 };
/** Tiled Diffusion SR's params with the defaults the tests start from (plain x4, CFW, no colour fix). */
const tiledBase = {
  ...sampling,
  tileSize: 64,
  tileOverlap: 32,
  patchSize: 1280,
  patchStride: 1000,
  minShortSide: 0,
  patchSeed: 'same' as const,
  decoder: 'cfw' as const,
  fusion: 0.5,
  colorFix: 'none' as const,
};

beforeAll(async () => {
  fx = await contractModels();
  ctx = testContext(fx.host, backend).ctx;
  set = (await loadModelSet.execute({}, { set: 'contract' }, ctx)).set;
  const { positive, negative } = await textContext.execute({ set }, { prompt: '', negativePrompt: '' }, ctx);
  const { image: sr } = await preSr.execute({ set, image: lr }, {}, ctx);
  const { cognitive } = await cognitiveEncode.execute({ set, image: sr }, {}, ctx);
  tokens = { positive, negative, cognitive };
  zLr = (await vaeEncode.execute({ set, image: lr }, {}, ctx)).latent;
});
afterAll(async () => {
  await backend.releaseAll();
  await fx?.cleanup();
});

const finite = (data: Float32Array) => data.every((v) => Number.isFinite(v));

describe('CoSeR stage nodes on a contract model set', () => {
  it('give each stage its contract shape', async () => {
    const { image: sr } = await preSr.execute({ set, image: lr }, {}, ctx);
    expect([sr.width, sr.height, sr.channels]).toEqual([64, 64, 3]);
    expect(tokens.cognitive.dims).toEqual([1, 50, 16]);
    expect(tokens.positive.dims).toEqual([1, 77, 16]);
    expect(tokens.negative.dims).toEqual([1, 77, 16]);
    expect(zLr.dims).toEqual([1, 4, 8, 8]);
    const { reference } = await generateReference.execute({ set, latent: zLr, ...tokens }, sampling, ctx);
    expect(reference.dims).toEqual([1, 4, 8, 8]);
    expect(finite(reference.data)).toBe(true);
    const { latent } = await aiaSample.execute(
      { set, latent: zLr, reference, ...tokens },
      { ...sampling, ...tiling },
      ctx,
    );
    expect(latent.dims).toEqual([1, 4, 8, 8]);
    for (const decoder of ['cfw', 'plain'] as const) {
      const { image } = await vaeDecode.execute(
        { set, latent, lr },
        { decoder, fusion: 0.5, colorFix: 'none' as const },
        ctx,
      );
      expect([image.width, image.height, image.channels]).toEqual([64, 64, 3]);
      expect(image.data.every((v) => v >= 0 && v <= 1)).toBe(true);
      // provenance: the set's files by name and sha256
      const models = image.meta?.models ?? [];
      expect(models).toContainEqual({
        name: 'contract/unet_aia.onnx',
        sha256: fx.manifest.files['unet_aia.onnx']!.sha256,
      });
      expect(models.some((m) => m.name === 'contract/cfw_decoder.onnx')).toBe(decoder === 'cfw');
    }
    // stages load and release their sessions in turn
    expect(backend.open.size).toBe(0);
    expect(backend.peakOpen).toBe(2);
  });

  it('pads sizes that are not multiples of 64 px and crops the result back', async () => {
    const odd = testImage(20, 12, 1);
    const { latent } = await vaeEncode.execute({ set, image: odd }, {}, ctx);
    expect(latent.dims).toEqual([1, 4, 8, 16]);
    const { image } = await vaeDecode.execute(
      { set, latent, lr: odd },
      { decoder: 'cfw', fusion: 0.5, colorFix: 'none' as const },
      ctx,
    );
    expect([image.width, image.height]).toEqual([80, 48]);
  });

  it('refuses an image whose x4 output passes the pixel cap, before any work', async () => {
    const t = testContext(fx.host, backend);
    const capped: ExecuteContext = { ...t.ctx, limits: { ...t.ctx.limits, maxPixels: 60 * 60 } };
    await expect(vaeEncode.execute({ set, image: lr }, {}, capped)).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' });
    await expect(preSr.execute({ set, image: lr }, {}, capped)).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' });
    const params = {
      ...tiledBase,
    };
    await expect(tiledSuperResolve.execute({ set, image: lr, ...tokens }, params, capped)).rejects.toMatchObject({
      code: 'IMAGE_TOO_LARGE',
    });
    expect(backend.open.size).toBe(0);
  });

  it('reports progress per step and latent previews every N steps', async () => {
    const t = testContext(fx.host, backend);
    await generateReference.execute({ set, latent: zLr, ...tokens }, { ...sampling, steps: 6, previewEvery: 2 }, t.ctx);
    expect(t.progress.map((p) => p.value)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(t.progress.every((p) => p.max === 6)).toBe(true);
    expect(t.previews).toHaveLength(3);
    expect([t.previews[0]!.width, t.previews[0]!.height, t.previews[0]!.channels]).toEqual([8, 8, 3]);
  });

  it('is reproducible per seed and differs across seeds', async () => {
    const run = async (seed: number) =>
      (await aiaSample.execute({ set, latent: zLr, reference: zLr, ...tokens }, { ...sampling, ...tiling, seed }, ctx))
        .latent.data;
    const a = await run(11);
    const b = await run(11);
    const c = await run(12);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const ddim = async (seed: number) =>
      (
        await aiaSample.execute(
          { set, latent: zLr, reference: zLr, ...tokens },
          { ...sampling, ...tiling, sampler: 'ddim', seed },
          ctx,
        )
      ).latent.data;
    expect(await ddim(1)).toEqual(await ddim(1));
  });

  it('gives identical results tiled and untiled when the latent fits one tile; blends several tiles smoothly', async () => {
    const inputs = { set, latent: zLr, reference: zLr, ...tokens };
    const untiled = (await aiaSample.execute(inputs, { ...sampling, ...tiling }, ctx)).latent.data;
    const oneTile = (await aiaSample.execute(inputs, { ...sampling, ...tiling, tiled: true }, ctx)).latent.data;
    expect(oneTile).toEqual(untiled);
    const small = (await aiaSample.execute(inputs, { ...sampling, tiled: true, tileSize: 8, tileOverlap: 4 }, ctx))
      .latent;
    expect(small.dims).toEqual(zLr.dims);
    expect(finite(small.data)).toBe(true);
  });

  it('stops within one step when cancelled', async () => {
    const controller = new AbortController();
    const t = testContext(fx.host, backend, controller.signal);
    const progress = t.ctx.progress;
    const ctxCancel: ExecuteContext = {
      ...t.ctx,
      progress(value, max, label) {
        progress(value, max, label);
        if (value === 2) controller.abort();
      },
    };
    await expect(
      aiaSample.execute(
        { set, latent: zLr, reference: zLr, ...tokens },
        { ...sampling, ...tiling, steps: 20 },
        ctxCancel,
      ),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(t.progress.map((p) => p.value)).toEqual([1, 2]);
    expect(backend.open.size).toBe(0);
  });

  it('tiled SR with one patch equals encode + one zero-reference chain (its own stream) + decode', async () => {
    const params = {
      ...tiledBase,
    };
    const { image: tiled } = await tiledSuperResolve.execute({ set, image: lr, ...tokens }, params, ctx);
    const zeroRef = await encodeLatent(ctx, set, createImage(64, 64, 3));
    // The tiled mode (inference_tile.py) has no reference chain: its step noise follows x_T's directly.
    const guidance = { cond: concatTokens(tokens.positive, tokens.cognitive), uncond: tokens.negative, scale: 3 };
    const restored = await withStage(ctx, set, ['controlnet.onnx', 'unet_aia.onnx'], (controlnet, unet) =>
      diffuse(ctx, {
        params: sampling,
        start: zLr.data,
        width: 8,
        height: 8,
        label: 'restore',
        predictEps: aiaEps(ctx, {
          controlnet: controlnet!,
          unet: unet!,
          lr: zLr.data,
          reference: zeroRef.data,
          channels: 4,
          width: 8,
          height: 8,
          guidance,
        }),
      }),
    );
    const { image: staged } = await vaeDecode.execute(
      { set, latent: float32Tensor(zLr.dims, restored), lr },
      { decoder: 'cfw', fusion: 0.5, colorFix: 'none' },
      ctx,
    );
    expect(tiled.data).toEqual(staged.data);
    // All-in-Attention Sample continues the stream after a reference chain's noise, so it differs.
    const { latent } = await aiaSample.execute(
      { set, latent: zLr, reference: zeroRef, ...tokens },
      { ...sampling, ...tiling },
      ctx,
    );
    expect(latent.data).not.toEqual(restored);
  });

  it('tiled SR averages several pixel patches into the x4 image', async () => {
    const image = testImage(24, 20, 2);
    const params = {
      ...tiledBase,
      steps: 2,
      tileSize: 8,
      tileOverlap: 4,
      patchSize: 64,
      patchStride: 32,
    };
    const t = testContext(fx.host, backend);
    const { image: out } = await tiledSuperResolve.execute({ set, image, ...tokens }, params, t.ctx);
    expect([out.width, out.height]).toEqual([96, 80]);
    expect(out.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    // 96 x 80 padded to 96 x 96 (a multiple of 32, as inference_tile.py) -> 2 x 2 patches of 2 steps each
    expect(t.progress.at(-1)).toMatchObject({ value: 8, max: 8 });
  });

  it('diffuses a small image at a larger scale (short side up to minShortSide) and resizes it back to x4', async () => {
    const image = testImage(16, 12, 3);
    const params = {
      ...tiledBase,
      steps: 2,
      patchSize: 64,
      patchStride: 32,
    };
    const plain = testContext(fx.host, backend);
    const x4 = await tiledSuperResolve.execute({ set, image, ...tokens }, { ...params, minShortSide: 0 }, plain.ctx);
    // x4 is 64 x 48 (padded to 64 x 64): one patch.
    expect(plain.progress.at(-1)).toMatchObject({ max: 2 });

    const larger = testContext(fx.host, backend);
    const up = await tiledSuperResolve.execute({ set, image, ...tokens }, { ...params, minShortSide: 96 }, larger.ctx);
    // Scale 96 / 12 = 8: 128 x 96 diffused (padded to 128 x 128: 3 x 3 patches), then back to 64 x 48.
    expect(larger.progress.at(-1)).toMatchObject({ max: 18 });
    expect([up.image.width, up.image.height, up.image.channels]).toEqual([64, 48, 3]);
    expect(up.image.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(up.image.data).not.toEqual(x4.image.data);
    // Below the x4 size it changes nothing.
    const small = testContext(fx.host, backend);
    const same = await tiledSuperResolve.execute({ set, image, ...tokens }, { ...params, minShortSide: 40 }, small.ctx);
    expect(same.image.data).toEqual(x4.image.data);
  });

  it('keeps graphs saved before minShortSide on plain x4 (params migrations 1 -> 2 -> 3)', () => {
    const migrated = migrateNodeParams(tiledSuperResolve, { id: 'r', typeVersion: 1, params: { steps: 5 } });
    expect(migrated.params).toEqual({ steps: 5, minShortSide: 0, patchSeed: 'same', colorFix: 'none' });
    expect(tiledSuperResolve.params.parse({}).minShortSide).toBe(512);
  });

  it("moves version-2 tiled graphs to the reproduction's patch seeds and keeps them without a colour fix", () => {
    const migrated = migrateNodeParams(tiledSuperResolve, { id: 'r', typeVersion: 2, params: { seed: 3 } });
    expect(migrated.params).toEqual({ seed: 3, patchSeed: 'same', colorFix: 'none' });
    const defaults = tiledSuperResolve.params.parse({});
    expect([defaults.patchSeed, defaults.colorFix]).toEqual(['same', 'none']);
  });

  it('restarts the seed in every pixel patch (inference_tile.py:342), or varies it per patch on request', async () => {
    const image = testImage(24, 20, 2);
    const params = {
      ...tiledBase,
      steps: 2,
      tileSize: 8,
      tileOverlap: 4,
      patchSize: 64,
      patchStride: 32,
    };
    const same = (await tiledSuperResolve.execute({ set, image, ...tokens }, params, ctx)).image;
    const varying = (
      await tiledSuperResolve.execute({ set, image, ...tokens }, { ...params, patchSeed: 'varying' }, ctx)
    ).image;
    expect(same.meta?.seeds).toEqual([5, 5, 5, 5]);
    expect(varying.meta?.seeds).toEqual([5, 6, 7, 8]);
    // Patch 0 (seed 5 either way) alone covers the top-left 32 x 32 px: identical there, different elsewhere.
    const region = (img: typeof same, x0: number, y0: number) =>
      Array.from({ length: 32 * 32 }, (_, i) => img.data[(y0 + Math.floor(i / 32)) * img.width + x0 + (i % 32)]);
    expect(region(same, 0, 0)).toEqual(region(varying, 0, 0));
    expect(region(same, 64, 48)).not.toEqual(region(varying, 64, 48));
  });

  it("continues the reference chain's noise stream in All-in-Attention Sample (one stream, inference.py)", async () => {
    const inputs = { set, latent: zLr, reference: zLr, ...tokens };
    const { latent } = await aiaSample.execute(inputs, { ...sampling, ...tiling }, ctx);
    const guidance = { cond: concatTokens(tokens.positive, tokens.cognitive), uncond: tokens.negative, scale: 3 };
    const chain = (skipNormals: number) =>
      withStage(ctx, set, ['controlnet.onnx', 'unet_aia.onnx'], (controlnet, unet) =>
        diffuse(ctx, {
          params: sampling,
          start: zLr.data,
          width: 8,
          height: 8,
          label: 'restore',
          skipNormals,
          predictEps: aiaEps(ctx, {
            controlnet: controlnet!,
            unet: unet!,
            lr: zLr.data,
            reference: zLr.data,
            channels: 4,
            width: 8,
            height: 8,
            guidance,
          }),
        }),
      );
    // x_T (256 normals), the reference chain's 4 steps x 256 (the last one drawn and masked, as p_sample does).
    expect(latent.data).toEqual(await chain(4 * 256));
    expect(latent.data).not.toEqual(await chain(0));
  });

  it('applies the colour fix inside VAE Decode before the clamp, and needs the LR for it', async () => {
    const base = { decoder: 'cfw' as const, fusion: 0.5 };
    const plain = (await vaeDecode.execute({ set, latent: zLr, lr }, { ...base, colorFix: 'none' }, ctx)).image;
    const fixed = (await vaeDecode.execute({ set, latent: zLr, lr }, { ...base, colorFix: 'adain' }, ctx)).image;
    expect(fixed.data).not.toEqual(plain.data);
    expect(fixed.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    await expect(
      vaeDecode.execute({ set, latent: zLr, lr: undefined }, { ...base, colorFix: 'wavelet' }, ctx),
    ).rejects.toMatchObject({ code: 'INPUT_UNCONNECTED' });
    const migrated = migrateNodeParams(vaeDecode, { id: 'd', typeVersion: 1, params: { decoder: 'plain' } });
    expect(migrated.params).toEqual({ decoder: 'plain', colorFix: 'none' });
  });
});

describe('Text Context prompts', () => {
  it("encode a typed prompt with the set's clip_text.onnx, keeping the precomputed tensor for an empty one", async () => {
    const { positive, negative } = await textContext.execute(
      { set },
      { prompt: 'a photo of a cat', negativePrompt: '' },
      ctx,
    );
    expect(positive.dims).toEqual([1, 77, 16]);
    expect(negative.data).toEqual(tokens.negative.data);
    expect(positive.data).not.toEqual(tokens.positive.data);
    // The same as running the encoder on CLIP's ids for the prompt.
    const direct = await withStage(ctx, set, 'clip_text.onnx', async (session) => {
      const ids = [49406, 320, 1125, 539, 320, 2368, 49407, ...new Array(70).fill(0)];
      const input_ids = { dtype: 'int64' as const, dims: [1, 77], data: BigInt64Array.from(ids, BigInt) };
      return (await runStage(ctx, session, { input_ids }, ['context'])).context;
    });
    expect(positive.data).toEqual(direct.data);
    const other = await textContext.execute({ set }, { prompt: 'a photo of a dog', negativePrompt: 'blurry' }, ctx);
    expect(other.positive.data).not.toEqual(positive.data);
    expect(other.negative.data).not.toEqual(tokens.negative.data);
  });

  it('name the missing encoder when a set without clip_text.onnx is given a prompt', async () => {
    const manifest = structuredClone(set.manifest) as { files: Record<string, unknown> };
    delete manifest.files['clip_text.onnx'];
    const withoutEncoder = { ...set, manifest };
    await expect(
      textContext.execute({ set: withoutEncoder }, { prompt: 'a cat', negativePrompt: '' }, ctx),
    ).rejects.toMatchObject({ code: 'MODEL_MISSING', message: expect.stringContaining('clip_text.onnx') });
    // Without prompts it still works from the tensors.
    const plain = await textContext.execute({ set: withoutEncoder }, { prompt: ' ', negativePrompt: '' }, ctx);
    expect(plain.positive.data).toEqual(tokens.positive.data);
  });
});

describe('tiling params', () => {
  it('are checked at validation', async () => {
    const checkCtx = { host: fx.host, limits: ctx.limits };
    const bad = { ...sampling, tiled: true, tileSize: 32, tileOverlap: 32 };
    expect(await aiaSample.check!(bad, checkCtx)).toMatchObject([{ code: 'PARAM_OUT_OF_RANGE', param: 'tileOverlap' }]);
    expect(await aiaSample.check!({ ...bad, tiled: false }, checkCtx)).toEqual([]);
    const patches = {
      ...bad,
      patchSize: 128,
      patchStride: 192,
      minShortSide: 0,
      patchSeed: 'same' as const,
      decoder: 'cfw' as const,
      fusion: 0.5,
      colorFix: 'none' as const,
    };
    const found = await tiledSuperResolve.check!(patches, checkCtx);
    expect(found.map((d) => d.param)).toEqual(['tileOverlap', 'patchStride']);
  });
});

describe('model-set checks', () => {
  it('accept the generated contract set', async () => {
    expect((await inspectModelSet(fx.host, 'contract')).diagnostics).toEqual([]);
    expect(await loadModelSet.check!({ set: 'contract' }, { host: fx.host, limits: ctx.limits })).toEqual([]);
  });

  it('refuse a set whose manifest gives one output a wrong shape', async () => {
    const other = await contractModels({ seed: 2 });
    try {
      const path = join(other.setDir, 'coser-set.json');
      const manifest = JSON.parse(await readFile(path, 'utf8'));
      manifest.files['vae_encoder.onnx'].outputs[0].shape = [1, 3, 'H/8', 'W/8'];
      await writeFile(path, JSON.stringify(manifest));
      const diagnostics = await loadModelSet.check!({ set: 'contract' }, { host: other.host, limits: ctx.limits });
      expect(diagnostics).toHaveLength(1);
      expect(diagnostics[0]).toMatchObject({ code: 'MODEL_SET_INVALID', severity: 'error' });
      expect(diagnostics[0]!.message).toContain("vae_encoder.onnx output 'latent'");
      manifest.version = 2;
      await writeFile(path, JSON.stringify(manifest));
      const future = await inspectModelSet(other.host, 'contract');
      expect(future.diagnostics[0]).toMatchObject({ code: 'MODEL_SET_INVALID' });
      expect(future.diagnostics[0]!.message).toContain('version 2');
    } finally {
      await other.cleanup();
    }
  });

  it('name missing files and point to the export instructions', async () => {
    const other = await contractModels({ seed: 3 });
    try {
      await rm(join(other.setDir, 'unet_aia.onnx'));
      const diagnostics = (await inspectModelSet(other.host, 'contract')).diagnostics;
      expect(diagnostics).toHaveLength(1);
      expect(diagnostics[0]).toMatchObject({ code: 'MODEL_MISSING' });
      expect(diagnostics[0]!.message).toContain('unet_aia.onnx');
      const none = (await inspectModelSet(other.host, 'nothing-here')).diagnostics;
      expect(none[0]).toMatchObject({ code: 'MODEL_MISSING' });
      expect(none[0]!.message).toContain('coser-set.json');
      expect(none[0]!.message).toContain('docs/coser.md');
    } finally {
      await other.cleanup();
    }
  });

  it('refuse files whose bytes changed, and models whose inputs/outputs do not fit the contract', async () => {
    const other = await contractModels({ seed: 4 });
    const b = countingBackend();
    try {
      const t = testContext(other.host, b);
      const otherSet = (await loadModelSet.execute({}, { set: 'contract' }, t.ctx)).set;
      const decoder = await readFile(join(other.setDir, 'vae_decoder.onnx'));
      await writeFile(join(other.setDir, 'unet_gen.onnx'), decoder);
      const inputs = { set: otherSet, latent: zLr, ...tokens };
      await expect(generateReference.execute(inputs, sampling, t.ctx)).rejects.toMatchObject({ code: 'MODEL_CORRUPT' });
      const manifest = structuredClone(otherSet.manifest) as {
        files: Record<string, { sha256: string; sizeBytes?: number }>;
      };
      manifest.files['unet_gen.onnx']!.sha256 = manifest.files['vae_decoder.onnx']!.sha256;
      manifest.files['unet_gen.onnx']!.sizeBytes = manifest.files['vae_decoder.onnx']!.sizeBytes;
      const swapped = { name: 'contract', manifest };
      await expect(generateReference.execute({ ...inputs, set: swapped }, sampling, t.ctx)).rejects.toMatchObject({
        code: 'MODEL_INCOMPATIBLE',
      });
      expect(b.open.size).toBe(0);
    } finally {
      await b.releaseAll();
      await other.cleanup();
    }
  });

  it('refuse latents of different sizes', async () => {
    const big = float32Tensor([1, 4, 16, 8]);
    await expect(
      aiaSample.execute({ set, latent: zLr, reference: big, ...tokens }, { ...sampling, ...tiling }, ctx),
    ).rejects.toMatchObject({ code: 'TYPE_MISMATCH' });
  });
});
