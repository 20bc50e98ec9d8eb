import type { ImageBuffer, ModelSetRef, Tensor } from '@coser/runtime';
import { CoserError, createImage, defineNode, float32Tensor, port } from '@coser/runtime';
import { z } from 'zod';
import { type CoserColorFix, colorFixParams, colorFixSigned } from './color-fix';
import type { CoserFileName } from './contract';
import { LATENT_SCALE, VAE_FACTOR } from './contract';
import { PIPELINE_FILES, runStage, type StageContext, setMeta, withStage } from './stage';
import { bicubicSigned, cropTopLeft, imageTensor, latentDims, SR_SCALE, tensorImage, upscaledInput } from './tensors';

/** Decoder choice: StableSR's CFW decoder (fuses LR encoder features) or the plain SD decoder. */
export const decoderParams = {
  decoder: z
    .enum(['cfw', 'plain'])
    .default('cfw')
    .describe('cfw: fuse features of the bicubic-upscaled LR (StableSR); plain: the SD VAE decoder alone'),
  fusion: z.number().min(0).max(1).default(0.5).describe('CFW fusion weight w (0 = no LR features, 1 = most fidelity)'),
};

/**
 * Decodes a 0.18215-scaled latent to the decoder's raw output (about [-1, 1], not clamped): z / 0.18215 into
 * vae_decoder, or with CFW the features of `lrPixels` (the [-1, 1] upscaled LR, same padded size) into cfw_decoder
 * with weight `fusion`. {@link finishDecoded} applies the colour fix and the clamp.
 */
export async function decodeLatent(
  ctx: StageContext,
  set: ModelSetRef,
  latent: Tensor<'float32'>,
  options: { decoder: 'cfw' | 'plain'; fusion: number; lrPixels?: ImageBuffer },
): Promise<ImageBuffer> {
  const z = float32Tensor(
    latent.dims,
    latent.data.map((v) => v / LATENT_SCALE),
  );
  let out: Tensor<'float32'>;
  if (options.decoder === 'cfw') {
    const pixels = options.lrPixels;
    if (!pixels)
      throw new CoserError('INPUT_UNCONNECTED', 'the CFW decoder needs the LR image', { node: ctx.node, port: 'lr' });
    const { height, width } = latentDims(latent);
    if (pixels.width !== width * VAE_FACTOR || pixels.height !== height * VAE_FACTOR) {
      throw new CoserError(
        'TYPE_MISMATCH',
        `the LR image (x4, padded: ${pixels.width}x${pixels.height}) does not match the latent (${width}x${height} = ${width * VAE_FACTOR}x${height * VAE_FACTOR} px)`,
        { node: ctx.node, port: 'lr' },
      );
    }
    const { f2, f4 } = await withStage(ctx, set, 'cfw_features.onnx', (s) =>
      runStage(ctx, s, { image: imageTensor(pixels) }, ['f2', 'f4']),
    );
    const w = float32Tensor([1], Float32Array.of(options.fusion));
    out = await withStage(
      ctx,
      set,
      'cfw_decoder.onnx',
      async (s) => (await runStage(ctx, s, { z, f2, f4, w }, ['image'])).image,
    );
  } else {
    out = await withStage(ctx, set, 'vae_decoder.onnx', async (s) => (await runStage(ctx, s, { z }, ['image'])).image);
  }
  return tensorImage(out);
}

/**
 * The end of the reproduction's decode (inference.py:339-349): the colour fix on the raw [-1, 1] output against
 * `reference` (the bicubic x4 LR, same size), then clamp((x + 1) / 2).
 */
export function finishDecoded(raw: ImageBuffer, reference: ImageBuffer | undefined, colorFix: CoserColorFix) {
  const fixed = colorFix === 'none' || !reference ? raw : colorFixSigned(raw, reference, colorFix);
  return createImage(
    fixed.width,
    fixed.height,
    3,
    fixed.data.map((v) => Math.min(1, Math.max(0, (v + 1) / 2))),
    raw.meta,
  );
}

/** VAE decoding (COSER.md stage 8), cropped back to 4x the LR size when the LR is connected. */
export const vaeDecode = defineNode({
  type: 'coser.vaeDecode',
  typeVersion: 2,
  // Version 2 added colorFix. Its default, no fix, is what version 1 did (the colour fix was a separate node).
  migrations: { 1: (params) => ({ ...params, colorFix: 'none' }) },
  title: 'VAE Decode',
  category: 'coser',
  description:
    "Latent -> image with the set's cfw_decoder.onnx (CFW: fuses cfw_features.onnx features of the bicubic-upscaled " +
    'LR with weight w) or vae_decoder.onnx, cropped to 4x the LR size; optional colour fix against the bicubic LR ' +
    '(before the clamp, as the reproduction), then clamp((x + 1) / 2).',
  inputs: {
    set: port.modelSet(),
    latent: port.latent({ shape: [1, 4, 'h', 'w'] }),
    lr: port.image({ optional: true, label: 'LR', description: 'The LR image (needed by CFW; sets the output size)' }),
  },
  outputs: { image: port.image() },
  params: z.object({ ...decoderParams, ...colorFixParams }),
  inferStatic({ latent, lr }) {
    if (lr?.width !== undefined && lr.height !== undefined) {
      return { image: { width: lr.width * SR_SCALE, height: lr.height * SR_SCALE, channels: 3 } };
    }
    const [, , h, w] = latent?.shape ?? [];
    if (typeof h === 'number' && typeof w === 'number')
      return { image: { width: w * VAE_FACTOR, height: h * VAE_FACTOR, channels: 3 } };
    return {};
  },
  async execute({ set, latent, lr }, params, ctx) {
    latentDims(latent);
    if (params.colorFix !== 'none' && !lr) {
      throw new CoserError('INPUT_UNCONNECTED', 'the colour fix needs the LR image (connect lr or set colorFix none)', {
        node: ctx.node,
        port: 'lr',
      });
    }
    const raw = await decodeLatent(ctx, set, latent, { ...params, ...(lr ? { lrPixels: upscaledInput(lr) } : {}) });
    const decoders: CoserFileName[] =
      params.decoder === 'cfw' ? ['cfw_features.onnx', 'cfw_decoder.onnx'] : ['vae_decoder.onnx'];
    const cropped = lr ? cropTopLeft(raw, lr.width * SR_SCALE, lr.height * SR_SCALE) : raw;
    const out = finishDecoded(cropped, lr ? bicubicSigned(lr) : undefined, params.colorFix);
    return { image: { ...out, meta: { ...lr?.meta, ...setMeta(set, [...PIPELINE_FILES, ...decoders], lr?.meta) } } };
  },
});
