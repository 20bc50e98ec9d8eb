import type { ExecuteContext, ImageBuffer } from '@coser/runtime';
import { createImage, defineNode, mergeMeta, port } from '@coser/runtime';
import { z } from 'zod';
import { gaussianBlurPlane, seededGaussian } from '../lib/image-ops';
import { resampleImage } from '../lib/resample';

const params = z.object({
  scale: z.number().min(1).max(8).default(4).describe('Downscale factor (1 = keep the size)'),
  filter: z.enum(['nearest', 'bilinear', 'bicubic', 'lanczos']).default('bicubic').describe('Filter used to downscale'),
  blurSigma: z
    .number()
    .min(0)
    .max(10)
    .default(0)
    .describe('Gaussian blur sigma in pixels, before downscaling (0 = off)'),
  noiseSigma: z.number().min(0).max(50).default(0).describe('Gaussian noise sigma on the 0-255 scale (0 = off)'),
  jpegQuality: z.number().int().min(0).max(100).default(0).describe('JPEG re-compression quality (0 = off, 1-100)'),
  seed: z.number().int().min(0).max(2147483647).default(0).describe('Noise seed: the same seed gives the same output'),
});

function degradedSize(width: number, height: number, scale: number) {
  return { width: Math.max(1, Math.round(width / scale)), height: Math.max(1, Math.round(height / scale)) };
}

/**
 * Makes a low-quality input from a clean image, in the classic order blur -> downscale -> noise -> JPEG, to test
 * restoration graphs against a known ground truth. Deterministic for a given seed.
 */
export const degrade = defineNode({
  type: 'image.degrade',
  typeVersion: 1,
  title: 'Degrade',
  category: 'image',
  description:
    'Blurs, downscales, adds Gaussian noise and JPEG artefacts (each optional) to make low-resolution test inputs.',
  inputs: { image: port.image() },
  outputs: { image: port.image() },
  params,
  inferStatic({ image }, p) {
    if (!image?.width || !image.height) return {};
    return {
      image: {
        ...degradedSize(image.width, image.height, p.scale),
        ...(image.channels ? { channels: image.channels } : {}),
      },
    };
  },
  async execute({ image }, p, ctx) {
    let out = image;
    if (p.blurSigma > 0) out = mapPlanes(out, (plane) => gaussianBlurPlane(plane, out.width, out.height, p.blurSigma));
    const size = degradedSize(out.width, out.height, p.scale);
    if (size.width !== out.width || size.height !== out.height) {
      out = resampleImage(out, size.width, size.height, { filter: p.filter });
    }
    ctx.throwIfCancelled();
    if (p.noiseSigma > 0) out = addNoise(out, p.noiseSigma / 255, p.seed);
    if (p.jpegQuality > 0) out = await jpegRoundTrip(out, p.jpegQuality, ctx);
    const meta = p.noiseSigma > 0 ? mergeMeta(image.meta, { seeds: [p.seed] }) : image.meta;
    return { image: createImage(out.width, out.height, out.channels, out.data, meta) };
  },
});

function mapPlanes(image: ImageBuffer, fn: (plane: Float32Array) => Float32Array): ImageBuffer {
  const size = image.width * image.height;
  const data = new Float32Array(image.data.length);
  for (let c = 0; c < image.channels; c++) data.set(fn(image.data.subarray(c * size, (c + 1) * size)), c * size);
  return createImage(image.width, image.height, image.channels, data, image.meta);
}

/** Adds per-value Gaussian noise to the colour channels (not alpha) and clamps to [0, 1]. */
function addNoise(image: ImageBuffer, sigma: number, seed: number): ImageBuffer {
  const gauss = seededGaussian(seed);
  const data = image.data.slice();
  const colourValues = image.width * image.height * Math.min(image.channels, 3);
  for (let i = 0; i < colourValues; i++) data[i] = Math.min(1, Math.max(0, data[i]! + gauss() * sigma));
  return createImage(image.width, image.height, image.channels, data, image.meta);
}

/** Encodes and decodes through the host's JPEG codec; alpha (which JPEG lacks) is carried over unchanged. */
async function jpegRoundTrip(image: ImageBuffer, quality: number, ctx: ExecuteContext): Promise<ImageBuffer> {
  const size = image.width * image.height;
  const colour =
    image.channels === 4 ? createImage(image.width, image.height, 3, image.data.slice(0, 3 * size)) : image;
  const bytes = await ctx.host.encodeImage(colour, 'jpeg', { quality });
  const decoded = await ctx.host.decodeImage(bytes, { maxPixels: Math.max(ctx.limits.maxPixels, size) });
  if (image.channels !== 4) return decoded;
  const data = new Float32Array(size * 4);
  data.set(decoded.data.subarray(0, 3 * size));
  data.set(image.data.subarray(3 * size), 3 * size);
  return createImage(image.width, image.height, 4, data);
}
