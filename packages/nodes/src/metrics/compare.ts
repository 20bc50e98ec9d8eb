import { CoserError, defineNode, port } from '@coser/runtime';
import { z } from 'zod';
import { imageMetrics } from '../lib/metrics';

/**
 * Full-reference metrics of an image against a ground truth: PSNR and SSIM on RGB and on the BT.601 luma (Y), the
 * figures super-resolution papers report. Values are quantised to 8 bits first, as they would be in a saved file.
 */
export const compare = defineNode({
  type: 'metrics.compare',
  typeVersion: 1,
  title: 'Compare',
  category: 'metrics',
  description:
    'PSNR and SSIM (Gaussian 11x11, sigma 1.5) of the image against a reference of the same size, on RGB and on ' +
    'luma (Y, BT.601), after cropping a border.',
  inputs: {
    image: port.image({ description: 'The restored image' }),
    reference: port.image({ label: 'Reference', description: 'The ground truth, same size' }),
  },
  outputs: { metrics: port.metrics({ description: 'psnr, ssim, psnrY, ssimY' }) },
  params: z.object({
    border: z
      .number()
      .int()
      .min(0)
      .max(64)
      .default(4)
      .describe('Pixels cropped from every side before measuring (usually the upscale factor)'),
  }),
  output: true,
  async execute({ image, reference }, params, ctx) {
    if (image.width !== reference.width || image.height !== reference.height) {
      throw new CoserError(
        'IMAGE_UNSUPPORTED',
        `image is ${image.width}x${image.height} but the reference is ${reference.width}x${reference.height}; they must be the same size`,
        { node: ctx.node, port: 'reference' },
      );
    }
    const inner = Math.min(image.width, image.height) - 2 * params.border;
    if (inner < 11) {
      throw new CoserError(
        'PARAM_OUT_OF_RANGE',
        `a ${image.width}x${image.height} image minus a border of ${params.border} leaves less than the 11x11 SSIM window`,
        { node: ctx.node, param: 'border' },
      );
    }
    return { metrics: imageMetrics(image, reference, params.border) };
  },
});
