import { defineNode, float32Tensor, port } from '@coser/runtime';
import { z } from 'zod';
import { resampleImage } from '../lib/resample';
import { CLIP_SIZE, COGNITIVE_TOKENS } from './contract';
import { runStage, withStage } from './stage';
import { toRgb } from './tensors';

/** OpenCLIP's image normalisation (per RGB channel). */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/**
 * The CLIP vision input as the reproduction's `clip_transfrom` makes it (ddpm.py:1638-1645): torchvision's tensor
 * `Resize((224, 224), BICUBIC)` (torch's bicubic, a = -0.75, no antialias), then CLIP's mean/std, as 1x3x224x224.
 */
export function clipPixels(image: Parameters<typeof toRgb>[0]) {
  const resized = resampleImage(toRgb(image), CLIP_SIZE, CLIP_SIZE, { filter: 'bicubic-torch' });
  const size = CLIP_SIZE * CLIP_SIZE;
  const data = new Float32Array(3 * size);
  for (let c = 0; c < 3; c++) {
    const mean = CLIP_MEAN[c]!;
    const std = CLIP_STD[c]!;
    for (let i = 0; i < size; i++) data[c * size + i] = (resized.data[c * size + i]! - mean) / std;
  }
  return float32Tensor([1, 3, CLIP_SIZE, CLIP_SIZE], data);
}

/**
 * CoSeR's cognitive encoding: CLIP image tokens of the (pre-SR) image, then the cognitive adapter (a Q-Former with
 * 50 queries) maps them into CLIP's text-token space.
 */
export const cognitiveEncode = defineNode({
  type: 'coser.cognitiveEncode',
  typeVersion: 1,
  title: 'Cognitive Encode',
  category: 'coser',
  description:
    'Image -> cognitive embedding (1x50xC in CLIP text-token space): bicubic 224 px + CLIP normalisation, ' +
    "the set's clip_vision.onnx, then cog_adapter.onnx. Each model is released before the next loads.",
  inputs: { set: port.modelSet(), image: port.image({ description: 'Usually the Pre-SR output' }) },
  outputs: { cognitive: port.tokens({ shape: [1, COGNITIVE_TOKENS, 'C'], description: 'Cognitive embedding' }) },
  params: z.object({}),
  inferStatic() {
    return { cognitive: { shape: [1, COGNITIVE_TOKENS, 'C'] } };
  },
  async execute({ set, image }, _params, ctx) {
    const pixels = clipPixels(image);
    const tokens = await withStage(
      ctx,
      set,
      'clip_vision.onnx',
      async (s) => (await runStage(ctx, s, { pixels }, ['tokens'])).tokens,
    );
    const cognitive = await withStage(
      ctx,
      set,
      'cog_adapter.onnx',
      async (s) => (await runStage(ctx, s, { tokens }, ['cognitive'])).cognitive,
    );
    return { cognitive };
  },
});
