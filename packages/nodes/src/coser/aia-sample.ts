import type { Diagnostic } from '@coser/runtime';
import { CoserError, defineNode, float32Tensor, port } from '@coser/runtime';
import { z } from 'zod';
import { COGNITIVE_TOKENS, TEXT_TOKENS } from './contract';
import { chainNormals, diffuse, samplingParams } from './diffuse';
import { aiaEps } from './guided-eps';
import { withStage } from './stage';
import { concatTokens, latentDims } from './tensors';

/** Latent tiling params (StableSR's defaults: tiles of 64 latent cells overlapping by 32). */
export const latentTileParams = {
  tileSize: z
    .number()
    .int()
    .min(8)
    .max(512)
    .multipleOf(8)
    .default(64)
    .describe('Latent tile size (cells; 64 = 512 px)'),
  tileOverlap: z.number().int().min(0).max(504).default(32).describe('Overlap of neighbouring latent tiles (cells)'),
};

/** Validation of the tiling params (PARAM_OUT_OF_RANGE), shared with Tiled Diffusion SR. */
export function tilingDiagnostics(params: { tileSize: number; tileOverlap: number }): Diagnostic[] {
  return params.tileOverlap >= params.tileSize
    ? [
        {
          severity: 'error',
          code: 'PARAM_OUT_OF_RANGE',
          param: 'tileOverlap',
          message: `tileOverlap (${params.tileOverlap}) must be smaller than tileSize (${params.tileSize})`,
        },
      ]
    : [];
}

/**
 * CoSeR's All-in-Attention diffusion (COSER.md stage 7): per step the ControlNet turns z_lr and z_ref into feature
 * maps and the AiA UNet predicts eps with them, guided between [text; cognitive] and the negative prompt.
 */
export const aiaSample = defineNode({
  type: 'coser.aiaSample',
  typeVersion: 1,
  title: 'All-in-Attention Sample',
  category: 'coser',
  description:
    "Restores the latent with the set's controlnet.onnx + unet_aia.onnx: per step two ControlNet runs (hint z_lr, " +
    'hint z_ref), then guided conditional/unconditional UNet passes reusing the control features. With tiling, ' +
    'the guided eps of overlapping latent tiles is blended with Gaussian weights at every step. Starts from the ' +
    "same x_T as Generate Reference with the same seed; its step noise continues the seed's stream after the " +
    "reference chain's (one stream, as the reproduction).",
  inputs: {
    set: port.modelSet(),
    latent: port.latent({ shape: [1, 4, 'h', 'w'], description: 'z_lr' }),
    reference: port.latent({ shape: [1, 4, 'h', 'w'], description: 'z_ref (Generate Reference)' }),
    positive: port.tokens({ shape: [1, TEXT_TOKENS, 'C'] }),
    negative: port.tokens({ shape: [1, TEXT_TOKENS, 'C'] }),
    cognitive: port.tokens({ shape: [1, COGNITIVE_TOKENS, 'C'] }),
  },
  outputs: { latent: port.latent({ shape: [1, 4, 'h', 'w'], description: 'The restored latent' }) },
  params: z.object({
    ...samplingParams,
    tiled: z.boolean().default(false).describe('Sample in overlapping latent tiles (for large images)'),
    ...latentTileParams,
  }),
  inferStatic({ latent }) {
    return latent ? { latent } : {};
  },
  async check(params) {
    return params.tiled ? tilingDiagnostics(params) : [];
  },
  async execute({ set, latent, reference, positive, negative, cognitive }, params, ctx) {
    const { channels, height, width } = latentDims(latent);
    const ref = latentDims(reference, 'reference');
    if (ref.height !== height || ref.width !== width || ref.channels !== channels) {
      throw new CoserError(
        'TYPE_MISMATCH',
        `the reference latent is ${ref.width}x${ref.height}, the LR latent ${width}x${height}`,
        { node: ctx.node, port: 'reference' },
      );
    }
    if (params.tiled && params.tileOverlap >= params.tileSize) {
      throw new CoserError('PARAM_OUT_OF_RANGE', 'tileOverlap must be smaller than tileSize', {
        node: ctx.node,
        param: 'tileOverlap',
      });
    }
    const guidance = { cond: concatTokens(positive, cognitive), uncond: negative, scale: params.guidance };
    const data = await withStage(ctx, set, ['controlnet.onnx', 'unet_aia.onnx'], (controlnet, unet) =>
      diffuse(ctx, {
        params,
        start: latent.data,
        width,
        height,
        label: 'restore',
        // One noise stream for both chains (inference.py: x_T, then the reference's steps, then these).
        skipNormals: chainNormals(params.steps, latent.data.length),
        predictEps: aiaEps(ctx, {
          controlnet: controlnet!,
          unet: unet!,
          lr: latent.data,
          reference: reference.data,
          channels,
          width,
          height,
          guidance,
          ...(params.tiled ? { tiles: { size: params.tileSize, overlap: params.tileOverlap } } : {}),
        }),
      }),
    );
    return { latent: float32Tensor([1, channels, height, width], data) };
  },
});
