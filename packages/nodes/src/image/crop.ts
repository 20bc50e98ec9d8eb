import { CoserError, createImage, defineNode, port } from '@coser/runtime';
import { z } from 'zod';

const params = z.object({
  x: z.number().int().min(0).max(65535).default(0).describe('Left edge of the crop, in pixels'),
  y: z.number().int().min(0).max(65535).default(0).describe('Top edge of the crop, in pixels'),
  width: z.number().int().min(0).max(65536).default(0).describe('Crop width in pixels; 0 runs to the right edge'),
  height: z.number().int().min(0).max(65536).default(0).describe('Crop height in pixels; 0 runs to the bottom edge'),
});

/** The crop rectangle clipped to the image; width or height 0 when nothing is left. */
export function cropRect(image: { width: number; height: number }, p: z.infer<typeof params>) {
  const x = Math.min(p.x, image.width);
  const y = Math.min(p.y, image.height);
  const width = Math.min(p.width === 0 ? image.width : p.width, image.width - x);
  const height = Math.min(p.height === 0 ? image.height : p.height, image.height - y);
  return { x, y, width: Math.max(0, width), height: Math.max(0, height) };
}

/** Cuts a rectangle out of an image (clipped to the image). */
export const crop = defineNode({
  type: 'image.crop',
  typeVersion: 1,
  title: 'Crop',
  category: 'image',
  description: 'Keeps a rectangle of the image. The rectangle is clipped to the image; an empty result is an error.',
  inputs: { image: port.image() },
  outputs: { image: port.image() },
  params,
  inferStatic({ image }, p) {
    if (!image?.width || !image.height) return {};
    const r = cropRect({ width: image.width, height: image.height }, p);
    return { image: { width: r.width, height: r.height, ...(image.channels ? { channels: image.channels } : {}) } };
  },
  async execute({ image }, p, ctx) {
    const r = cropRect(image, p);
    if (r.width === 0 || r.height === 0) {
      throw new CoserError(
        'PARAM_OUT_OF_RANGE',
        `crop at (${p.x}, ${p.y}) is outside the ${image.width}x${image.height} image`,
        { node: ctx.node, param: p.x >= image.width ? 'x' : 'y' },
      );
    }
    const src = image.data;
    const out = new Float32Array(r.width * r.height * image.channels);
    const srcPlane = image.width * image.height;
    const dstPlane = r.width * r.height;
    for (let c = 0; c < image.channels; c++) {
      for (let row = 0; row < r.height; row++) {
        const from = c * srcPlane + (r.y + row) * image.width + r.x;
        out.set(src.subarray(from, from + r.width), c * dstPlane + row * r.width);
      }
    }
    return { image: createImage(r.width, r.height, image.channels, out, image.meta) };
  },
});
