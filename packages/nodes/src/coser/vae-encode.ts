import type { ImageBuffer, ModelSetRef, Tensor } from '@coser/runtime';
import { defineNode, float32Tensor, port } from '@coser/runtime';
import { z } from 'zod';
import { LATENT_SCALE } from './contract';
import { runStage, type StageContext, withStage } from './stage';
import { checkOutputSize, imageTensor, latentStatic, upscaledInput } from './tensors';

/** Encodes a [-1, 1] pixel image with the set's VAE encoder, scaled by 0.18215. */
export async function encodeLatent(
  ctx: StageContext,
  set: ModelSetRef,
  pixels: ImageBuffer,
): Promise<Tensor<'float32'>> {
  const latent = await withStage(
    ctx,
    set,
    'vae_encoder.onnx',
    async (s) => (await runStage(ctx, s, { image: imageTensor(pixels) }, ['latent'])).latent,
  );
  return float32Tensor(
    latent.dims,
    latent.data.map((v) => v * LATENT_SCALE),
  );
}

/**
 * The LR latent z_lr (COSER.md stage 5): LR -> [-1, 1], bicubic x4, clamped, reflect-padded to a multiple of 64,
 * SD VAE encoder mean x 0.18215.
 */
export const vaeEncode = defineNode({
  type: 'coser.vaeEncode',
  typeVersion: 1,
  title: 'VAE Encode',
  category: 'coser',
  description:
    'LR image -> latent (1x4xH/8xW/8 of the x4 size, padded to a multiple of 64 px): [-1, 1], bicubic x4, clamp, ' +
    "the set's vae_encoder.onnx, x 0.18215.",
  inputs: { set: port.modelSet(), image: port.image({ description: 'The low-resolution image' }) },
  outputs: { latent: port.latent({ shape: [1, 4, 'h', 'w'], description: 'z_lr' }) },
  params: z.object({}),
  inferStatic({ image }) {
    return { latent: latentStatic(image) };
  },
  async execute({ set, image }, _params, ctx) {
    checkOutputSize(image, ctx);
    return { latent: await encodeLatent(ctx, set, upscaledInput(image)) };
  },
});
