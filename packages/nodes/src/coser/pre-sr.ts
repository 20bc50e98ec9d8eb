import { defineNode, port } from '@coser/runtime';
import { z } from 'zod';
import { runStage, setMeta, withStage } from './stage';
import { checkOutputSize, imageTensor, SR_SCALE, tensorImage } from './tensors';

/** CoSeR's pre-SR network (MSRResNet x4): a quick upscale whose output the cognitive encoder looks at. */
export const preSr = defineNode({
  type: 'coser.preSr',
  typeVersion: 1,
  title: 'Pre-SR',
  category: 'coser',
  description:
    "Runs the set's presr.onnx (an MSRResNet x4) on the LR image. Its output (not clamped) feeds Cognitive Encode.",
  inputs: {
    set: port.modelSet(),
    image: port.image({ description: 'The low-resolution image (RGB; alpha and gray are converted)' }),
  },
  outputs: { image: port.image({ description: 'x4 upscale, not clamped' }) },
  params: z.object({}),
  inferStatic({ image }) {
    if (image?.width === undefined || image.height === undefined) return {};
    return { image: { width: image.width * SR_SCALE, height: image.height * SR_SCALE, channels: 3 } };
  },
  async execute({ set, image }, _params, ctx) {
    checkOutputSize(image, ctx);
    const out = await withStage(
      ctx,
      set,
      'presr.onnx',
      async (s) => (await runStage(ctx, s, { lr: imageTensor(image) }, ['sr'])).sr,
    );
    return { image: { ...tensorImage(out), meta: { ...image.meta, ...setMeta(set, ['presr.onnx'], image.meta) } } };
  },
});
