import { defineNode, float32Tensor, port } from '@coser/runtime';
import { z } from 'zod';
import { COGNITIVE_TOKENS, TEXT_TOKENS } from './contract';
import { diffuse, samplingParams } from './diffuse';
import { plainUnetEps } from './guided-eps';
import { withStage } from './stage';
import { concatTokens, latentDims } from './tensors';

/**
 * CoSeR's reference generation (COSER.md stage 6): the plain SD 2.1 UNet, guided by [text; cognitive] against the
 * negative prompt, sampled from the same x_T as the restoration. The reference stays a latent.
 */
export const generateReference = defineNode({
  type: 'coser.generateReference',
  typeVersion: 1,
  title: 'Generate Reference',
  category: 'coser',
  description:
    "Generates the reference latent with the set's unet_gen.onnx: classifier-free guidance between the 127-token " +
    'conditional context [text; cognitive] and the 77-token negative prompt, DDPM from x_T (the LR latent diffused ' +
    'with the seed). Use the same seed and steps as All-in-Attention Sample: both start from the same x_T and the ' +
    "restoration's noise continues this chain's stream, as in the reproduction.",
  inputs: {
    set: port.modelSet(),
    latent: port.latent({ shape: [1, 4, 'h', 'w'], description: 'z_lr, the chain starts from it' }),
    positive: port.tokens({ shape: [1, TEXT_TOKENS, 'C'] }),
    negative: port.tokens({ shape: [1, TEXT_TOKENS, 'C'] }),
    cognitive: port.tokens({ shape: [1, COGNITIVE_TOKENS, 'C'] }),
  },
  outputs: { reference: port.latent({ shape: [1, 4, 'h', 'w'], description: 'z_ref' }) },
  params: z.object(samplingParams),
  inferStatic({ latent }) {
    return latent ? { reference: latent } : {};
  },
  async execute({ set, latent, positive, negative, cognitive }, params, ctx) {
    const { channels, height, width } = latentDims(latent);
    const guidance = { cond: concatTokens(positive, cognitive), uncond: negative, scale: params.guidance };
    const data = await withStage(ctx, set, 'unet_gen.onnx', (unet) =>
      diffuse(ctx, {
        params,
        start: latent.data,
        width,
        height,
        label: 'reference',
        predictEps: plainUnetEps(ctx, unet, latent.dims, guidance),
      }),
    );
    return { reference: float32Tensor([1, channels, height, width], data) };
  },
});
