import type { ImageBuffer } from '@coser/runtime';
import { createImage, defineNode, port } from '@coser/runtime';
import { z } from 'zod';
import { planeStats, waveletLowPass } from '../lib/image-ops';
import { resampleImage } from '../lib/resample';

/**
 * Matches the image's colours to a reference (StableSR's colour fix, used after diffusion-based SR whose colours
 * drift). `adain`: each channel gets the reference's mean and standard deviation. `wavelet`: keeps the image's high
 * frequencies and takes the low frequencies (5-level dilated blur) from the reference.
 */
export const colorFix = defineNode({
  type: 'image.colorFix',
  typeVersion: 1,
  title: 'Color Fix',
  category: 'image',
  description:
    'Transfers the colours of a reference (e.g. the bicubic-upscaled input) onto the image: AdaIN (per-channel ' +
    'mean/std) or wavelet (the reference supplies low frequencies). The reference is resized to the image first.',
  inputs: {
    image: port.image({ description: 'The image whose colours drifted' }),
    reference: port.image({ label: 'Reference', description: 'Image with the right colours (any size)' }),
  },
  outputs: { image: port.image() },
  params: z.object({
    method: z
      .enum(['adain', 'wavelet'])
      .default('wavelet')
      .describe('adain: match mean/std; wavelet: swap low frequencies'),
  }),
  inferStatic({ image }) {
    return image ? { image } : {};
  },
  async execute({ image, reference }, params) {
    const ref =
      reference.width === image.width && reference.height === image.height
        ? reference
        : resampleImage(reference, image.width, image.height, { filter: 'bicubic' });
    return { image: applyColorFix(image, ref, params.method) };
  },
});

/** Colour fix of `image` from `ref` (same size). Alpha is kept from the image; a gray reference feeds every channel. */
export function applyColorFix(image: ImageBuffer, ref: ImageBuffer, method: 'adain' | 'wavelet'): ImageBuffer {
  const size = image.width * image.height;
  const out = image.data.slice();
  const colour = Math.min(image.channels, 3);
  const refColour = Math.min(ref.channels, 3);
  for (let c = 0; c < colour; c++) {
    const src = image.data.subarray(c * size, (c + 1) * size);
    const rc = Math.min(c, refColour - 1);
    const target = ref.data.subarray(rc * size, (rc + 1) * size);
    const dst = out.subarray(c * size, (c + 1) * size);
    if (method === 'adain') {
      const s = planeStats(src);
      const t = planeStats(target);
      // A flat channel has no contrast to rescale: it just moves to the reference mean.
      const gain = s.std > 1e-8 ? t.std / s.std : 0;
      for (let i = 0; i < size; i++) dst[i] = (src[i]! - s.mean) * gain + t.mean;
    } else {
      const lowSrc = waveletLowPass(src, image.width, image.height);
      const lowRef = waveletLowPass(target, image.width, image.height);
      for (let i = 0; i < size; i++) dst[i] = src[i]! - lowSrc[i]! + lowRef[i]!;
    }
  }
  return createImage(image.width, image.height, image.channels, out, image.meta);
}
