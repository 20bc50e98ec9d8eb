import type { ExecuteContext, ImageBuffer, StaticInfo, Tensor } from '@coser/runtime';
import { CoserError, createImage, float32Tensor } from '@coser/runtime';
import { resampleImage } from '../lib/resample';
import { VAE_FACTOR } from './contract';

/** The latent grid must divide by 8 (the UNet's three downsamplings), so pixel sizes are padded to 64. */
export const PIXEL_MULTIPLE = VAE_FACTOR * 8;
/** CoSeR's fixed super-resolution factor. */
export const SR_SCALE = 4;

/** RGB view of any image: grayscale is replicated, alpha dropped (the models are RGB-only). */
export function toRgb(image: ImageBuffer): ImageBuffer {
  if (image.channels === 3) return image;
  const size = image.width * image.height;
  const out = new Float32Array(size * 3);
  for (let c = 0; c < 3; c++)
    out.set(
      image.data.subarray((image.channels === 1 ? 0 : c) * size, ((image.channels === 1 ? 0 : c) + 1) * size),
      c * size,
    );
  return createImage(image.width, image.height, 3, out, image.meta);
}

/** An RGB image as a 1x3xHxW tensor (same memory layout: planar float32). */
export function imageTensor(image: ImageBuffer): Tensor<'float32'> {
  const rgb = toRgb(image);
  return float32Tensor([1, 3, rgb.height, rgb.width], rgb.data);
}

/** A 1x3xHxW tensor as an image. */
export function tensorImage(t: Tensor<'float32'>): ImageBuffer {
  const [n, c, h, w] = t.dims;
  if (n !== 1 || c !== 3 || h === undefined || w === undefined) {
    throw new CoserError('MODEL_INCOMPATIBLE', `expected a 1x3xHxW image tensor, got [${t.dims.join('x')}]`);
  }
  return createImage(w, h, 3, t.data);
}

/** Index of a reflected coordinate (mirror without repeating the edge; period 2(n - 1)). */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/** Reflect-pads an image on the right and bottom to `width` x `height` (StableSR pads the same way). */
export function reflectPad(image: ImageBuffer, width: number, height: number): ImageBuffer {
  if (width === image.width && height === image.height) return image;
  const out = new Float32Array(width * height * image.channels);
  for (let c = 0; c < image.channels; c++) {
    for (let y = 0; y < height; y++) {
      const sy = reflect(y, image.height);
      for (let x = 0; x < width; x++) {
        out[(c * height + y) * width + x] =
          image.data[(c * image.height + sy) * image.width + reflect(x, image.width)]!;
      }
    }
  }
  return createImage(width, height, image.channels, out, image.meta);
}

/** Crops the top-left `width` x `height` of an image. */
export function cropTopLeft(image: ImageBuffer, width: number, height: number): ImageBuffer {
  if (width === image.width && height === image.height) return image;
  const out = new Float32Array(width * height * image.channels);
  for (let c = 0; c < image.channels; c++) {
    for (let y = 0; y < height; y++) {
      const src = (c * image.height + y) * image.width;
      out.set(image.data.subarray(src, src + width), (c * height + y) * width);
    }
  }
  return createImage(width, height, image.channels, out, image.meta);
}

/** Refuses (IMAGE_TOO_LARGE) an LR image whose padded x4 result would pass the run's pixel cap, before any work. */
export function checkOutputSize(
  lr: ImageBuffer,
  ctx: Pick<ExecuteContext, 'node' | 'limits'>,
  scale: number = SR_SCALE,
): void {
  const width = paddedSize(scaledSize(lr.width, scale));
  const height = paddedSize(scaledSize(lr.height, scale));
  if (width * height > ctx.limits.maxPixels) {
    throw new CoserError(
      'IMAGE_TOO_LARGE',
      `a ${lr.width}x${lr.height} image gives ${width}x${height} px at x${+scale.toFixed(2)}, over the cap of ${ctx.limits.maxPixels} pixels`,
      { node: ctx.node, port: 'image' },
    );
  }
}

/**
 * The scale the diffusion works at: x4, or more for a small image so that its short side reaches `minShortSide`
 * pixels (the reproduction's `max(512 / short side, 4)`; Stable Diffusion does poorly below 512 px).
 */
export function diffusionScale(lr: { width: number; height: number }, minShortSide: number): number {
  return Math.max(SR_SCALE, minShortSide / Math.min(lr.width, lr.height));
}

/** A side scaled as the reproduction does it: `int(size * scale)` (truncated). */
export function scaledSize(size: number, scale: number): number {
  return Math.floor(size * scale);
}

/** Rounds a pixel size up to the multiple the latent grid needs. */
export function paddedSize(size: number): number {
  return Math.ceil(size / PIXEL_MULTIPLE) * PIXEL_MULTIPLE;
}

/**
 * The LR as the reproduction feeds the VAE (scripts/inference.py:285-287): mapped to [-1, 1], torch's bicubic
 * (a = -0.75, `F.interpolate(mode='bicubic')`) to `int(side * scale)`, clamped to [-1, 1]; not padded.
 */
export function bicubicSigned(lr: ImageBuffer, scale: number = SR_SCALE): ImageBuffer {
  const rgb = toRgb(lr);
  const signed = createImage(
    rgb.width,
    rgb.height,
    3,
    rgb.data.map((v) => v * 2 - 1),
  );
  const up = resampleImage(signed, scaledSize(rgb.width, scale), scaledSize(rgb.height, scale), {
    filter: 'bicubic-torch',
  });
  for (let i = 0; i < up.data.length; i++) up.data[i] = Math.min(1, Math.max(-1, up.data[i]!));
  return up;
}

/**
 * The diffusion's pixel input for an LR image (COSER.md stage 5): {@link bicubicSigned}, then reflect-padded to a
 * multiple of 64 so the latent divides by 8. Also what the CFW feature encoder sees.
 */
export function upscaledInput(lr: ImageBuffer, scale: number = SR_SCALE): ImageBuffer {
  const up = bicubicSigned(lr, scale);
  return reflectPad(up, paddedSize(up.width), paddedSize(up.height));
}

/** Concatenates token tensors [1, n_i, C] along the token axis. */
export function concatTokens(...parts: Tensor<'float32'>[]): Tensor<'float32'> {
  const width = parts[0]?.dims[2];
  if (width === undefined || parts.some((p) => p.dims.length !== 3 || p.dims[2] !== width)) {
    throw new CoserError(
      'TYPE_MISMATCH',
      `token tensors of different widths cannot be joined: ${parts.map((p) => `[${p.dims.join('x')}]`).join(', ')}`,
    );
  }
  const count = parts.reduce((a, p) => a + p.dims[1]!, 0);
  const data = new Float32Array(count * width);
  let offset = 0;
  for (const p of parts) {
    data.set(p.data, offset);
    offset += p.data.length;
  }
  return float32Tensor([1, count, width], data);
}

/** Checks that a latent port value is 1x4xhxw and returns h, w. */
export function latentDims(
  latent: Tensor<'float32'>,
  what = 'latent',
): { channels: number; height: number; width: number } {
  const [n, c, h, w] = latent.dims;
  if (latent.dims.length !== 4 || n !== 1 || c === undefined || h === undefined || w === undefined) {
    throw new CoserError('TYPE_MISMATCH', `${what} must be 1xCxHxW, got [${latent.dims.join('x')}]`);
  }
  return { channels: c, height: h, width: w };
}

/** Static shape of the latent of an LR image of the given size (for inferStatic). */
export function latentStatic(lr: StaticInfo | undefined): StaticInfo {
  if (lr?.width === undefined || lr.height === undefined) return { shape: [1, 4, 'h', 'w'] };
  const h = paddedSize(lr.height * SR_SCALE) / VAE_FACTOR;
  const w = paddedSize(lr.width * SR_SCALE) / VAE_FACTOR;
  return { shape: [1, 4, h, w], note: `latent ${w}x${h}` };
}
