import {
  CoserError,
  createImage,
  defineNode,
  type ExecuteContext,
  type ImageBuffer,
  mergeMeta,
  port,
  resolveTileSize,
  tileImage,
} from '@coser/runtime';
import { z } from 'zod';
import { resamplePlane } from '../lib/resample';
import { findCatalogueEntry } from '../models/catalogue';
import { readSrEntry } from '../models/manifest';
import { checkSrModel } from './load-model';
import { runSr, type SrModelSpec } from './run-model';

const params = z.object({
  model: z
    .string()
    .default('')
    .describe('Model to use when no Load Model node is connected (e.g. esrgan-medium-x4)')
    .meta({ widget: 'model', task: 'super-resolution' }),
  tileSize: z
    .union([z.literal('auto'), z.number().int().min(64).max(2048)])
    .default('auto')
    .describe('Tile side in input pixels, or "auto" to fit the memory budget'),
  overlap: z.number().int().min(0).max(128).default(16).describe('Overlap between tiles in input pixels (blended)'),
  selfEnsemble: z
    .boolean()
    .default(false)
    .describe('Average the 8 flips/rotations (8x slower, slightly sharper and cleaner)'),
  alpha: z
    .enum(['bicubic', 'model'])
    .default('bicubic')
    .describe('How an alpha channel is upscaled: bicubic, or by the model on a grey copy'),
});

/**
 * Activation memory per input pixel of a tile, for "auto" tile sizes: about sixteen 64-channel float maps at the
 * input size plus two at the output size (ESRGAN-style nets upsample 64-channel features before the last conv).
 * Measured with bench/upscale-memory.ts: esrgan-medium x4 holds about 12 KB per input pixel in onnxruntime.
 */
function bytesPerInputPixel(scale: number): number {
  return 4 * 64 * (16 + 2 * scale * scale);
}

/** Memory the process holds besides the tiles: runtime, model weights, onnxruntime's own arenas. */
const FIXED_OVERHEAD_BYTES = 256 * 1024 * 1024;

/**
 * What the tiles may use: the budget minus the full-size input and output buffers, which live for the whole
 * upscale (an x4 of 2048 px is a 768 MiB float output), and a fixed overhead; never below an eighth of it.
 */
function tileBudget(budget: number, width: number, height: number, scale: number): number {
  const images = width * height * 3 * 4 * (1 + scale * scale);
  return Math.max(budget / 8, budget - images - FIXED_OVERHEAD_BYTES);
}

function scaleFromNote(note: string | undefined): number | undefined {
  const match = note ? /^x(\d+)/.exec(note) : null;
  return match ? Number(match[1]) : undefined;
}

/**
 * Upscales an image with a super-resolution model, tile by tile (feathered overlaps, so seams do not show).
 * Grayscale images are replicated to RGB and back; alpha is upscaled separately and kept.
 */
export const upscaleImage = defineNode({
  type: 'upscale.upscaleImage',
  typeVersion: 1,
  title: 'Upscale Image',
  category: 'upscale',
  description:
    'Super-resolves an image with an ONNX model (connect a Load Model node, or name the model in the "model" param). ' +
    'Large images are processed in overlapping tiles; self-ensemble averages 8 flipped/rotated passes.',
  inputs: {
    image: port.image(),
    model: port.model({ optional: true, description: 'Model from a Load Model node (overrides the model param)' }),
  },
  outputs: { image: port.image() },
  params,
  inferStatic({ image, model }, p) {
    const scale = scaleFromNote(model?.note) ?? (p.model ? findCatalogueEntry(p.model)?.scale : undefined);
    if (!scale || !image?.width || !image.height) return {};
    return {
      image: {
        width: image.width * scale,
        height: image.height * scale,
        ...(image.channels ? { channels: image.channels } : {}),
      },
    };
  },
  async check(p, ctx) {
    if (p.model) return checkSrModel(p.model, (n) => ctx.host.resolveModel(n), 'model');
    // With an empty param the model comes from the input, which must then be wired.
    if (ctx.connected && !ctx.connected.has('model')) {
      return [
        {
          severity: 'error',
          code: 'INPUT_UNCONNECTED',
          port: 'model',
          message: 'no model: connect a Load Model node or set the model param',
        },
      ];
    }
    return [];
  },
  async execute({ image, model }, p, ctx) {
    const name = model?.name ?? p.model;
    if (!name)
      throw new CoserError('INPUT_UNCONNECTED', 'connect a Load Model node or set the model param', {
        node: ctx.node,
        port: 'model',
      });
    const resolved = await ctx.host.resolveModel(name);
    const sr = readSrEntry(resolved.entry);
    if (!sr)
      throw new CoserError('MODEL_INCOMPATIBLE', `${name} is not an RGB super-resolution model`, {
        node: ctx.node,
        port: 'model',
      });
    const spec: SrModelSpec = { name, ...sr };
    const outW = image.width * sr.scale;
    const outH = image.height * sr.scale;
    if (outW * outH > ctx.limits.maxPixels)
      throw new CoserError(
        'IMAGE_TOO_LARGE',
        `x${sr.scale} of ${image.width}x${image.height} would be ${outW}x${outH}, over the cap of ${ctx.limits.maxPixels} pixels`,
        { node: ctx.node, port: 'image' },
      );
    const session = await ctx.backend.load(resolved.source);
    const tileSize = resolveTileSize(p.tileSize, {
      width: image.width,
      height: image.height,
      channels: 3,
      scale: sr.scale,
      bytesPerPixel: bytesPerInputPixel(sr.scale),
      memoryBudgetBytes: tileBudget(ctx.limits.memoryBudgetBytes, image.width, image.height, sr.scale),
    });
    const passes = image.channels === 4 && p.alpha === 'model' ? 2 : 1;
    let pass = 0;
    const upscaleRgb = async (rgb: ImageBuffer): Promise<ImageBuffer> => {
      const out = await tileImage(
        rgb,
        async (tile) => {
          ctx.throwIfCancelled();
          const planes = await runSr(session, spec, tile, { selfEnsemble: p.selfEnsemble, signal: ctx.signal });
          return createImage(planes.width, planes.height, 3, planes.data);
        },
        {
          tileSize,
          overlap: p.overlap,
          scale: sr.scale,
          memoryBudgetBytes: ctx.limits.memoryBudgetBytes,
          signal: ctx.signal,
          onProgress: (done: number, total: number) => ctx.progress(pass * total + done, passes * total, 'tiles'),
        },
      );
      pass++;
      return out;
    };

    const rgb = await upscaleRgb(toRgb(image));
    const meta = mergeMeta(image.meta, {
      models: [{ name, sha256: resolved.source.sha256 ?? resolved.source.key }],
      tiles: { size: tileSize, overlap: p.overlap },
    });
    if (image.channels === 3) return { image: { ...rgb, ...(meta ? { meta } : {}) } };
    if (image.channels === 1) return { image: createImage(outW, outH, 1, meanOfPlanes(rgb), meta) };
    const alpha = await upscaleAlpha(image, p.alpha, sr.scale, upscaleRgb, ctx);
    const data = new Float32Array(outW * outH * 4);
    data.set(rgb.data);
    data.set(alpha, outW * outH * 3);
    return { image: createImage(outW, outH, 4, data, meta) };
  },
});

/** The colour part as RGB: grey replicated to 3 planes, alpha dropped (handled on its own). */
function toRgb(image: ImageBuffer): ImageBuffer {
  const size = image.width * image.height;
  if (image.channels === 3) return image;
  if (image.channels === 4) return createImage(image.width, image.height, 3, image.data.subarray(0, size * 3));
  const data = new Float32Array(size * 3);
  for (let c = 0; c < 3; c++) data.set(image.data.subarray(0, size), c * size);
  return createImage(image.width, image.height, 3, data);
}

function meanOfPlanes(rgb: ImageBuffer): Float32Array {
  const size = rgb.width * rgb.height;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (rgb.data[i]! + rgb.data[size + i]! + rgb.data[2 * size + i]!) / 3;
  return out;
}

async function upscaleAlpha(
  image: ImageBuffer,
  mode: 'bicubic' | 'model',
  scale: number,
  upscaleRgb: (rgb: ImageBuffer) => Promise<ImageBuffer>,
  ctx: ExecuteContext,
): Promise<Float32Array> {
  const size = image.width * image.height;
  const alpha = image.data.subarray(size * 3, size * 4);
  ctx.throwIfCancelled();
  const up =
    mode === 'model'
      ? meanOfPlanes(await upscaleRgb(toRgb(createImage(image.width, image.height, 1, alpha))))
      : resamplePlane(alpha, image.width, image.height, image.width * scale, image.height * scale, {
          filter: 'bicubic',
        });
  // Alpha outside 0-1 has no meaning (ringing of the filter or the net): clamp it.
  for (let i = 0; i < up.length; i++) up[i] = Math.min(1, Math.max(0, up[i]!));
  return up;
}
