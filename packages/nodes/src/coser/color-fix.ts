import type { ImageBuffer } from '@coser/runtime';
import { createImage } from '@coser/runtime';
import { z } from 'zod';
import { waveletLowPass } from '../lib/image-ops';

/**
 * The reproduction's colour fix (scripts/wavelet_color_fix.py, from StableSR), applied where it applies it
 * (scripts/inference.py:339-345): to the decoder's output in [-1, 1] BEFORE the clamp, against the bicubic x4 LR
 * in [-1, 1]. Its default (`--colorfix_type nofix`) is no fix; the paper used AdaIN.
 */
export const colorFixParams = {
  colorFix: z
    .enum(['none', 'adain', 'wavelet'])
    .default('none')
    .describe(
      "Colour fix against the bicubic-upscaled LR, before the clamp: none (the reproduction's default), adain " +
        "(per-channel mean/std, the paper's choice) or wavelet (the LR's low frequencies)",
    ),
};

export type CoserColorFix = 'none' | 'adain' | 'wavelet';

/** calc_mean_std: mean and sqrt(unbiased variance + 1e-5) of one plane. */
function meanStd(plane: Float32Array): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < plane.length; i++) sum += plane[i]!;
  const mean = sum / plane.length;
  let sq = 0;
  for (let i = 0; i < plane.length; i++) sq += (plane[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(sq / Math.max(1, plane.length - 1) + 1e-5) };
}

/**
 * `adaptive_instance_normalization(image, reference)` or `wavelet_reconstruction(image, reference)` of the
 * reproduction, on RGB images of the same size in the [-1, 1] range (nothing is clamped here).
 *
 * @example
 * const fixed = colorFixSigned(decoded, bicubicSigned(lr), 'adain');
 */
export function colorFixSigned(image: ImageBuffer, reference: ImageBuffer, method: CoserColorFix): ImageBuffer {
  if (method === 'none') return image;
  if (reference.width !== image.width || reference.height !== image.height) {
    throw new RangeError(
      `colour fix: the reference is ${reference.width}x${reference.height}, the image ${image.width}x${image.height}`,
    );
  }
  const size = image.width * image.height;
  const out = image.data.slice();
  for (let c = 0; c < 3; c++) {
    const src = image.data.subarray(c * size, (c + 1) * size);
    const ref = reference.data.subarray(c * size, (c + 1) * size);
    const dst = out.subarray(c * size, (c + 1) * size);
    if (method === 'adain') {
      const s = meanStd(src);
      const r = meanStd(ref);
      for (let i = 0; i < size; i++) dst[i] = ((src[i]! - s.mean) / s.std) * r.std + r.mean;
    } else {
      // content_high + style_low: the 5-level blur's residual of the image plus the reference's blur.
      const lowSrc = waveletLowPass(src, image.width, image.height);
      const lowRef = waveletLowPass(ref, image.width, image.height);
      for (let i = 0; i < size; i++) dst[i] = src[i]! - lowSrc[i]! + lowRef[i]!;
    }
  }
  return createImage(image.width, image.height, image.channels, out, image.meta);
}
