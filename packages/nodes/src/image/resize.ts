import type { StaticInfo } from '@coser/runtime';
import { CoserError, defineNode, port } from '@coser/runtime';
import { z } from 'zod';
import { resampleImage } from '../lib/resample';

const params = z.object({
  mode: z.enum(['scale', 'size']).default('scale').describe('Resize by a factor (scale) or to a size (size)'),
  scale: z
    .number()
    .min(0.01)
    .max(16)
    .default(2)
    .describe('Factor applied to both sides (mode "scale")')
    .meta({ appliesWhen: { mode: ['scale'] } }),
  width: z
    .number()
    .int()
    .min(0)
    .max(65536)
    .default(0)
    .describe('Output width in pixels (mode "size"); 0 keeps the aspect ratio from the height')
    .meta({ appliesWhen: { mode: ['size'] } }),
  height: z
    .number()
    .int()
    .min(0)
    .max(65536)
    .default(0)
    .describe('Output height in pixels (mode "size"); 0 keeps the aspect ratio from the width')
    .meta({ appliesWhen: { mode: ['size'] } }),
  filter: z
    .enum(['nearest', 'bilinear', 'bicubic', 'lanczos'])
    .default('bicubic')
    .describe('Resampling filter (bicubic: a = -0.5 as in PIL; lanczos: 3 lobes)'),
  antialias: z.boolean().default(true).describe('Widen the filter when downscaling so no source pixel is skipped'),
});

type ResizeParams = z.infer<typeof params>;

/** The output size of a resize, or undefined when the input size is unknown. Never below 1x1. */
export function resizedSize(
  input: { width?: number; height?: number },
  p: ResizeParams,
): { width: number; height: number } | undefined {
  if (p.mode === 'size' && p.width > 0 && p.height > 0) return { width: p.width, height: p.height };
  const { width, height } = input;
  if (!width || !height) return undefined;
  if (p.mode === 'scale') {
    return { width: Math.max(1, Math.round(width * p.scale)), height: Math.max(1, Math.round(height * p.scale)) };
  }
  if (p.width > 0) return { width: p.width, height: Math.max(1, Math.round((height * p.width) / width)) };
  if (p.height > 0) return { width: Math.max(1, Math.round((width * p.height) / height)), height: p.height };
  return { width, height };
}

function tooLarge(size: { width: number; height: number }, maxPixels: number): string | undefined {
  const pixels = size.width * size.height;
  return pixels > maxPixels
    ? `output would be ${size.width}x${size.height} (${pixels} pixels), over the cap of ${maxPixels} pixels`
    : undefined;
}

/** Resizes an image by a factor or to a size with a separable filter. */
export const resize = defineNode({
  type: 'image.resize',
  typeVersion: 1,
  title: 'Resize',
  category: 'image',
  description: 'Resizes by a factor or to a width/height (one of them 0 keeps the aspect ratio).',
  inputs: { image: port.image() },
  outputs: { image: port.image() },
  params,
  inferStatic({ image }, p) {
    const size = resizedSize(image ?? {}, p);
    if (!size) return {};
    const info: StaticInfo = { ...size, ...(image?.channels ? { channels: image.channels } : {}) };
    return { image: info };
  },
  async check(p, ctx) {
    const size = p.mode === 'size' && p.width > 0 && p.height > 0 ? { width: p.width, height: p.height } : undefined;
    const message = size && tooLarge(size, ctx.limits.maxPixels);
    return message ? [{ severity: 'error', code: 'IMAGE_TOO_LARGE', param: 'width', message }] : [];
  },
  async execute({ image }, p, ctx) {
    const size = resizedSize(image, p)!;
    const message = tooLarge(size, ctx.limits.maxPixels);
    if (message) throw new CoserError('IMAGE_TOO_LARGE', message, { node: ctx.node, port: 'image' });
    if (size.width === image.width && size.height === image.height) return { image };
    return { image: resampleImage(image, size.width, size.height, { filter: p.filter, antialias: p.antialias }) };
  },
});
