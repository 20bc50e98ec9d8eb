import type { ImageBuffer, ImageMeta, Tensor } from '@coser/runtime';
import { CoserError, createImage, defineNode, float32Tensor, port } from '@coser/runtime';
import { z } from 'zod';
import { resampleImage } from '../lib/resample';
import { latentTileParams, tilingDiagnostics } from './aia-sample';
import { colorFixParams, colorFixSigned } from './color-fix';
import { COGNITIVE_TOKENS, type CoserFileName, TEXT_TOKENS, VAE_FACTOR } from './contract';
import { diffuse, samplingParams } from './diffuse';
import { aiaEps } from './guided-eps';
import { MAX_SEED } from './rng';
import { PIPELINE_FILES, setMeta, withStage } from './stage';
import {
  bicubicSigned,
  checkOutputSize,
  concatTokens,
  cropTopLeft,
  diffusionScale,
  PIXEL_MULTIPLE,
  paddedSize,
  reflectPad,
  SR_SCALE,
  scaledSize,
} from './tensors';
import { decodeLatent, decoderParams, finishDecoded } from './vae-decode';
import { encodeLatent } from './vae-encode';

/** A pixel patch of the x4 image. */
export interface PixelPatch {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

function axis(size: number, patch: number, stride: number): number[] {
  if (size <= patch) return [0];
  const out: number[] = [];
  for (let o = 0; o + patch < size; o += stride) out.push(o);
  out.push(size - patch);
  return [...new Set(out)];
}

/**
 * Pixel patches of a padded x4 image (sizes are multiples of 64): `patch` px squares every `stride` px, the last
 * one shifted back to end at the border. An image that fits one patch is one patch.
 */
export function planPixelPatches(width: number, height: number, patch: number, stride: number): PixelPatch[] {
  const out: PixelPatch[] = [];
  for (const y of axis(height, patch, stride)) {
    for (const x of axis(width, patch, stride))
      out.push({ x, y, width: Math.min(patch, width), height: Math.min(patch, height) });
  }
  return out;
}

function cropImage(image: ImageBuffer, r: PixelPatch): ImageBuffer {
  const out = new Float32Array(r.width * r.height * image.channels);
  for (let c = 0; c < image.channels; c++) {
    for (let y = 0; y < r.height; y++) {
      const src = (c * image.height + r.y + y) * image.width + r.x;
      out.set(image.data.subarray(src, src + r.width), (c * r.height + y) * r.width);
    }
  }
  return createImage(r.width, r.height, image.channels, out);
}

/** The padding multiple of the tiled mode: the reproduction pads to 32 px (inference_tile.py:321-327). */
const TILED_PAD = 32;

/**
 * CoSeR's tiled mode for large images (COSER.md stage 10, scripts/inference_tile.py): the LR is enlarged by
 * max(minShortSide / short side, 4) (so a small image is diffused at 512 px and resized back to x4 at the end),
 * reflect-padded to a multiple of 32 px (64 when the latent is smaller than a tile), cut into pixel patches (1280 px,
 * stride 1000) averaged back together in [-1, 1]; inside each patch the diffusion runs on Gaussian-blended latent
 * tiles, and the optional colour fix runs per patch against that patch's bicubic LR. As in the reproduction,
 * reference generation is skipped (reference = VAE encoding of zeros), the cognitive embedding comes from the whole
 * LR image and every patch starts the seed's noise stream afresh.
 */
export const tiledSuperResolve = defineNode({
  type: 'coser.tiledSuperResolve',
  typeVersion: 3,
  migrations: {
    // Version 2 added minShortSide; graphs saved before keep the plain x4 diffusion they were made with.
    1: (params) => ({ ...params, minShortSide: 0 }),
    // Version 3 added patchSeed and colorFix. colorFix 'none' is what version 2 did. patchSeed moves to the
    // reproduction's 'same': version 2's seed + i was not a choice anybody made but a departure from the
    // reproduction, and a version-2 result cannot be reproduced anyway (the bicubic, the tile weights and the
    // respacing were corrected with it), so keeping 'varying' would keep the departure and nothing else.
    2: (params) => ({ ...params, patchSeed: 'same', colorFix: 'none' }),
  },
  title: 'Tiled Diffusion SR',
  category: 'coser',
  description:
    'VAE Encode + All-in-Attention Sample + VAE Decode over pixel patches (averaged where they overlap) with ' +
    'Gaussian-blended latent tiles inside each patch, for images too large for one pass. Reference = VAE encoding ' +
    'of zeros; every patch restarts the seed (or patch i uses seed + i with patchSeed varying).',
  inputs: {
    set: port.modelSet(),
    image: port.image({ description: 'The low-resolution image' }),
    positive: port.tokens({ shape: [1, TEXT_TOKENS, 'C'] }),
    negative: port.tokens({ shape: [1, TEXT_TOKENS, 'C'] }),
    cognitive: port.tokens({ shape: [1, COGNITIVE_TOKENS, 'C'], description: 'From the whole LR image' }),
  },
  outputs: { image: port.image() },
  params: z.object({
    ...samplingParams,
    ...latentTileParams,
    patchSize: z
      .number()
      .int()
      .min(64)
      .max(8192)
      .multipleOf(PIXEL_MULTIPLE)
      .default(1280)
      .describe('Pixel patch size of the x4 image'),
    patchStride: z.number().int().min(8).max(8192).default(1000).describe('Distance between pixel patches (px)'),
    patchSeed: z
      .enum(['same', 'varying'])
      .default('same')
      .describe("same: every patch starts from the seed's noise (the reproduction); varying: patch i uses seed + i"),
    minShortSide: z
      .number()
      .int()
      .min(0)
      .max(2048)
      .default(512)
      .describe(
        'Diffuse at a scale above x4 when the x4 image would be smaller than this on its short side (px), then ' +
          'resize the result back to x4, as the reproduction does (0: always x4)',
      ),
    ...decoderParams,
    ...colorFixParams,
  }),
  inferStatic({ image }) {
    if (image?.width === undefined || image.height === undefined) return {};
    return { image: { width: image.width * SR_SCALE, height: image.height * SR_SCALE, channels: 3 } };
  },
  async check(params) {
    const diagnostics = tilingDiagnostics(params);
    if (params.patchStride > params.patchSize) {
      diagnostics.push({
        severity: 'error',
        code: 'PARAM_OUT_OF_RANGE',
        param: 'patchStride',
        message: `patchStride (${params.patchStride}) must not exceed patchSize (${params.patchSize}): patches would leave gaps`,
      });
    }
    return diagnostics;
  },
  async execute({ set, image, positive, negative, cognitive }, params, ctx) {
    if (params.tileOverlap >= params.tileSize) {
      throw new CoserError('PARAM_OUT_OF_RANGE', 'tileOverlap must be smaller than tileSize', {
        node: ctx.node,
        param: 'tileOverlap',
      });
    }
    if (params.patchStride > params.patchSize) {
      throw new CoserError('PARAM_OUT_OF_RANGE', 'patchStride must not exceed patchSize', {
        node: ctx.node,
        param: 'patchStride',
      });
    }
    const scale = diffusionScale(image, params.minShortSide);
    checkOutputSize(image, ctx, scale);
    const scaled = bicubicSigned(image, scale);
    // The reproduction pads to 32 px; a latent below one tile is sampled whole, and the UNet needs it to divide by 8.
    const tilePx = params.tileSize * VAE_FACTOR;
    const fits = scaled.width >= tilePx && scaled.height >= tilePx;
    const pad = (n: number) => (fits ? Math.ceil(n / TILED_PAD) * TILED_PAD : paddedSize(n));
    const pixels = reflectPad(scaled, pad(scaled.width), pad(scaled.height));
    const patches = planPixelPatches(pixels.width, pixels.height, params.patchSize, params.patchStride);
    // Phase by phase, so each network is loaded once whatever the number of patches. Patch pixels are cropped
    // again when needed instead of being kept: only latents (64x smaller) live across phases.
    const lrLatents: Tensor<'float32'>[] = [];
    for (const p of patches) lrLatents.push(await encodeLatent(ctx, set, cropImage(pixels, p)));
    const zeroRefs = new Map<string, Tensor<'float32'>>();
    for (const p of patches) {
      const key = `${p.width}x${p.height}`;
      if (!zeroRefs.has(key)) zeroRefs.set(key, await encodeLatent(ctx, set, createImage(p.width, p.height, 3)));
    }
    const guidance = { cond: concatTokens(positive, cognitive), uncond: negative, scale: params.guidance };
    const total = patches.length * params.steps;
    const seedOf = (i: number) => (params.patchSeed === 'same' ? params.seed : (params.seed + i) % (MAX_SEED + 1));
    const restored = await withStage(ctx, set, ['controlnet.onnx', 'unet_aia.onnx'], async (controlnet, unet) => {
      const out: Tensor<'float32'>[] = [];
      for (let i = 0; i < patches.length; i++) {
        const zLr = lrLatents[i]!;
        const p = patches[i]!;
        const [width, height] = [p.width / VAE_FACTOR, p.height / VAE_FACTOR];
        const data = await diffuse(ctx, {
          params: { ...params, seed: seedOf(i) },
          start: zLr.data,
          width,
          height,
          label: `patch ${i + 1}/${patches.length}`,
          progressBase: { done: i * params.steps, total },
          predictEps: aiaEps(ctx, {
            controlnet: controlnet!,
            unet: unet!,
            lr: zLr.data,
            reference: zeroRefs.get(`${p.width}x${p.height}`)!.data,
            channels: zLr.dims[1]!,
            width,
            height,
            guidance,
            tiles: { size: params.tileSize, overlap: params.tileOverlap },
          }),
        });
        out.push(float32Tensor(zLr.dims, data));
      }
      return out;
    });
    // Patches are colour-fixed and averaged in [-1, 1], and clamped after (ImageSpliterTh.gather, then clamp).
    const sum = new Float32Array(pixels.width * pixels.height * 3);
    const count = new Float32Array(pixels.width * pixels.height);
    for (let i = 0; i < patches.length; i++) {
      const p = patches[i]!;
      const lrPatch = cropImage(pixels, p);
      const raw = await decodeLatent(ctx, set, restored[i]!, { ...params, lrPixels: lrPatch });
      const decoded = colorFixSigned(raw, lrPatch, params.colorFix);
      for (let y = 0; y < p.height; y++) {
        for (let x = 0; x < p.width; x++) {
          const pos = (p.y + y) * pixels.width + p.x + x;
          count[pos] = count[pos]! + 1;
          for (let c = 0; c < 3; c++) {
            const dst = c * pixels.width * pixels.height + pos;
            sum[dst] = sum[dst]! + decoded.data[(c * p.height + y) * p.width + x]!;
          }
        }
      }
    }
    const plane = pixels.width * pixels.height;
    for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! / count[i % plane]!;
    const decoders: CoserFileName[] =
      params.decoder === 'cfw' ? ['cfw_features.onnx', 'cfw_decoder.onnx'] : ['vae_decoder.onnx'];
    const meta: ImageMeta = {
      ...image.meta,
      ...setMeta(set, [...PIPELINE_FILES, ...decoders], image.meta),
      seeds: patches.map((_, i) => seedOf(i)),
      tiles: { size: params.tileSize, overlap: params.tileOverlap },
    };
    const full = finishDecoded(createImage(pixels.width, pixels.height, 3, sum, meta), undefined, 'none');
    const restoredImage = cropTopLeft(full, scaledSize(image.width, scale), scaledSize(image.height, scale));
    if (scale === SR_SCALE) return { image: restoredImage };
    // Back to x4 with torch's bicubic, as the reproduction (inference_tile.py:391-398). Its target size is
    // int(padded side * 4 / scale), which stretches a padded image slightly; the studio resizes to exactly 4x.
    const x4 = resampleImage(restoredImage, image.width * SR_SCALE, image.height * SR_SCALE, {
      filter: 'bicubic-torch',
    });
    for (let i = 0; i < x4.data.length; i++) x4.data[i] = Math.min(1, Math.max(0, x4.data[i]!));
    return { image: { ...x4, meta } };
  },
});
