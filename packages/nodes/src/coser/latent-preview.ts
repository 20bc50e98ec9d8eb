import type { ImageBuffer } from '@coser/runtime';
import { createImage } from '@coser/runtime';

/**
 * The linear latent -> RGB projection widely used for cheap Stable Diffusion previews (ComfyUI's SD1.x/2.x
 * `latent_rgb_factors`): row = latent channel, column = R, G, B. It works on the 0.18215-scaled latent.
 */
export const LATENT_RGB_FACTORS: readonly (readonly [number, number, number])[] = [
  [0.3512, 0.2297, 0.3227],
  [0.325, 0.4974, 0.235],
  [-0.2829, 0.1762, 0.2721],
  [-0.212, -0.2616, -0.7177],
];

/**
 * A latent-resolution RGB preview of a 4-channel latent (CHW, `width` x `height`) without running the VAE decoder.
 * Latents with more or fewer channels use the first four factors rows that exist.
 *
 * @example
 * ctx.preview(latentPreview(x0, 64, 64));
 */
export function latentPreview(latent: Float32Array, width: number, height: number): ImageBuffer {
  const size = width * height;
  const channels = Math.min(LATENT_RGB_FACTORS.length, Math.floor(latent.length / size));
  const out = new Float32Array(size * 3);
  for (let c = 0; c < channels; c++) {
    const factors = LATENT_RGB_FACTORS[c]!;
    const src = latent.subarray(c * size, (c + 1) * size);
    for (let rgb = 0; rgb < 3; rgb++) {
      const f = factors[rgb]!;
      const dst = out.subarray(rgb * size, (rgb + 1) * size);
      for (let i = 0; i < size; i++) dst[i] = dst[i]! + f * src[i]!;
    }
  }
  // The projection lands roughly in [-1, 1], like the decoder's output.
  for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(0, (out[i]! + 1) / 2));
  return createImage(width, height, 3, out);
}
