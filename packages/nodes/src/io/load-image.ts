import { CoserError, defineNode, isCoserError, port } from '@coser/runtime';
import { z } from 'zod';

/** `photos/cat.final.png` -> `cat.final`: the name outputs are called after. */
export function baseNameWithoutExtension(filePath: string): string {
  const base = filePath.split(/[\\/]/).pop() ?? filePath;
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

/** Reads an image file through the host (path checks, size cap) and decodes it to a float image. */
export const loadImage = defineNode({
  type: 'io.loadImage',
  typeVersion: 1,
  title: 'Load Image',
  category: 'io',
  description:
    'Reads a PNG, JPEG, WebP or GIF (first frame) file from the allowed input folders. The format is taken from the ' +
    'bytes, not the file name; images over the pixel cap are refused before decoding.',
  inputs: {},
  outputs: { image: port.image({ description: 'The decoded image (RGB, RGBA or grayscale, values 0-1)' }) },
  params: z.object({
    path: z
      .string()
      .default('')
      .describe('Image file to read (relative to an allowed input folder)')
      .meta({ widget: 'image-path' }),
  }),
  async check(params, ctx) {
    if (params.path.trim() === '') {
      return [{ severity: 'error', code: 'INPUT_UNCONNECTED', param: 'path', message: 'no image file is chosen' }];
    }
    // A missing or forbidden file is named before the run starts, not halfway through a batch; its size lets
    // checkGraph refuse an image (or anything made from it) over the pixel cap before decoding it.
    try {
      const facts = await ctx.host.inspectInput?.(params.path);
      if (facts?.imageProblem) {
        return [
          { severity: 'error', code: facts.imageProblem.code, param: 'path', message: facts.imageProblem.message },
        ];
      }
      if (facts?.width && facts.height) ctx.reportStatic?.('image', { width: facts.width, height: facts.height });
    } catch (error) {
      if (!isCoserError(error)) throw error;
      return [{ severity: 'error', code: error.code, param: 'path', message: error.message }];
    }
    return [];
  },
  async execute(_inputs, params, ctx) {
    if (params.path.trim() === '') {
      throw new CoserError('INPUT_UNCONNECTED', 'no image file is chosen', { node: ctx.node, param: 'path' });
    }
    const bytes = await ctx.host.readInput(params.path);
    ctx.throwIfCancelled();
    const decoded = await ctx.host.decodeImage(bytes, { maxPixels: ctx.limits.maxPixels });
    return { image: { ...decoded, meta: { ...decoded.meta, sourceName: baseNameWithoutExtension(params.path) } } };
  },
});
