import { CoserError } from '../errors';
import { createImage, type ImageBuffer, mergeMeta } from '../image/image-buffer';
import { planTiles, type TileRect } from './plan-tiles';
import { resolveTileSize } from './resolve-tile-size';

export interface TileImageOptions {
  /** Tile edge in input pixels, or `'auto'` (from `memoryBudgetBytes`, see `resolveTileSize`). */
  readonly tileSize: number | 'auto';
  /** Pixels shared by neighbouring tiles, blended with linear ramps. */
  readonly overlap: number;
  /** Output size / input size (1 for filters, 4 for an x4 upscaler). */
  readonly scale: number;
  /** Channels of `runTile`'s results; default: the input's. */
  readonly outChannels?: 1 | 3 | 4;
  /** For `tileSize: 'auto'`. Default 512 MiB. */
  readonly memoryBudgetBytes?: number;
  /** For `tileSize: 'auto'`: working bytes per input pixel of the tile function (see `resolveTileSize`). */
  readonly bytesPerPixel?: number;
  /** Checked before each tile; cancels with CoserError CANCELLED. */
  readonly signal?: AbortSignal;
  /** Called after each tile with (tiles done, tiles total). */
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * Runs `runTile` over overlapping tiles of `image` and blends the results into one output image of
 * `round(width * scale) x round(height * scale)` with `outChannels` channels.
 *
 * Memory: the output is the only full-size buffer. Blending needs no weight plane: the feather weights are
 * separable (a horizontal ramp times a vertical ramp), so they are normalised per axis up front; on a product grid
 * of tiles the 2D weights then sum to exactly 1 at every pixel and each tile is added into the output once,
 * already weighted. Besides the output, one input tile and one result tile are alive at a time.
 *
 * @example
 * const out = await tileImage(image, (tile) => upscaleWithModel(tile), { tileSize: 'auto', overlap: 16, scale: 4,
 *   memoryBudgetBytes: ctx.limits.memoryBudgetBytes, signal: ctx.signal, onProgress: (d, t) => ctx.progress(d, t, 'tiles') });
 */
export async function tileImage(
  image: ImageBuffer,
  runTile: (tile: ImageBuffer, rect: TileRect) => Promise<ImageBuffer>,
  options: TileImageOptions,
): Promise<ImageBuffer> {
  const { width, height, channels } = image;
  const outChannels = options.outChannels ?? channels;
  const scale = options.scale;
  if (!(scale > 0) || !Number.isFinite(scale))
    throw new RangeError(`tile scale must be a positive number (got ${scale})`);
  const tileSize = resolveTileSize(options.tileSize, {
    width,
    height,
    channels,
    outChannels,
    scale,
    memoryBudgetBytes: options.memoryBudgetBytes ?? 512 * 1024 ** 2,
    ...(options.bytesPerPixel !== undefined ? { bytesPerPixel: options.bytesPerPixel } : {}),
  });
  const tiles = planTiles(width, height, tileSize, options.overlap);
  const outWidth = Math.round(width * scale);
  const outHeight = Math.round(height * scale);
  const output = createImage(outWidth, outHeight, outChannels);
  const out = output.data;
  const outPlane = outWidth * outHeight;

  // Per-axis normalised weights, one profile per tile column / tile row, in output pixels.
  const colRanges = axisRanges(
    tiles.filter((t) => t.row === 0).map((t) => [t.x, t.width] as const),
    scale,
  );
  const rowRanges = axisRanges(
    tiles.filter((t) => t.col === 0).map((t) => [t.y, t.height] as const),
    scale,
  );
  const colWeights = normalisedWeights(colRanges, outWidth);
  const rowWeights = normalisedWeights(rowRanges, outHeight);

  let meta = image.meta;
  // One tile's work lives in its own function so that its input and result are unreachable once it returns (an
  // async loop body can keep the previous iteration's buffers alive in its frame).
  const runOne = async (rect: TileRect) => {
    const input = tiles.length === 1 ? image : cropImage(image, rect);
    const result = await runTile(input, rect);
    const [ox, ow] = colRanges[rect.col]!;
    const [oy, oh] = rowRanges[rect.row]!;
    if (result.width !== ow || result.height !== oh || result.channels !== outChannels) {
      throw new CoserError(
        'MODEL_INCOMPATIBLE',
        `a ${rect.width}x${rect.height} tile came back ${result.width}x${result.height}x${result.channels}, expected ${ow}x${oh}x${outChannels} (scale ${scale})`,
      );
    }
    if (rect.index === 0) meta = mergeMeta(image.meta, result.meta);
    const wx = colWeights[rect.col]!;
    const wy = rowWeights[rect.row]!;
    // Where a tile's normalised weight is exactly 1 no other tile covers the pixel: copy instead of blending.
    const [solidFrom, solidTo] = solidSpan(wx);
    const src = result.data;
    const tilePlane = ow * oh;
    for (let c = 0; c < outChannels; c++) {
      const srcBase = c * tilePlane;
      const dstBase = c * outPlane;
      for (let ty = 0; ty < oh; ty++) {
        const rowWeight = wy[ty]!;
        const srcRow = srcBase + ty * ow;
        const dstRow = dstBase + (oy + ty) * outWidth + ox;
        if (rowWeight === 1 && solidTo > solidFrom) {
          for (let tx = 0; tx < solidFrom; tx++) out[dstRow + tx]! += src[srcRow + tx]! * wx[tx]!;
          out.set(src.subarray(srcRow + solidFrom, srcRow + solidTo), dstRow + solidFrom);
          for (let tx = solidTo; tx < ow; tx++) out[dstRow + tx]! += src[srcRow + tx]! * wx[tx]!;
        } else {
          for (let tx = 0; tx < ow; tx++) out[dstRow + tx]! += src[srcRow + tx]! * wx[tx]! * rowWeight;
        }
      }
    }
  };
  for (const rect of tiles) {
    if (options.signal?.aborted) throw new CoserError('CANCELLED', 'cancelled between tiles');
    await runOne(rect);
    options.onProgress?.(rect.index + 1, tiles.length);
  }
  const tileMeta = tiles.length > 1 ? { tiles: { size: tileSize, overlap: options.overlap } } : undefined;
  const merged = mergeMeta(meta, tileMeta);
  return merged ? { ...output, meta: merged } : output;
}

/** The range [from, to) of a weight profile where the weight is exactly 1 (empty when there is none). */
function solidSpan(weights: Float32Array): [number, number] {
  let from = 0;
  while (from < weights.length && weights[from] !== 1) from++;
  let to = from;
  while (to < weights.length && weights[to] === 1) to++;
  return [from, to];
}

/** Output start and length of each tile along one axis. */
function axisRanges(spans: readonly (readonly [number, number])[], scale: number): [number, number][] {
  return spans.map(([start, length]) => {
    const from = Math.round(start * scale);
    return [from, Math.round((start + length) * scale) - from];
  });
}

/**
 * For each tile along an axis, its weight at each of its output pixels: a linear ramp across the overlap with
 * each neighbour, then divided by the sum of all tiles' ramps at that pixel, so the weights sum to 1.
 */
function normalisedWeights(ranges: readonly [number, number][], length: number): Float32Array[] {
  const raw = ranges.map(([start, size], i) => {
    const previous = ranges[i - 1];
    const next = ranges[i + 1];
    const rampIn = previous ? Math.max(0, previous[0] + previous[1] - start) : 0;
    const rampOut = next ? Math.max(0, start + size - next[0]) : 0;
    const weights = new Float32Array(size);
    for (let u = 0; u < size; u++) {
      let w = 1;
      if (rampIn > 0) w = Math.min(w, (u + 0.5) / rampIn);
      if (rampOut > 0) w = Math.min(w, (size - u - 0.5) / rampOut);
      weights[u] = w;
    }
    return weights;
  });
  const sum = new Float64Array(length);
  for (const [i, [start, size]] of ranges.entries()) {
    const weights = raw[i]!;
    for (let u = 0; u < size; u++) sum[start + u]! += weights[u]!;
  }
  for (const [i, [start, size]] of ranges.entries()) {
    const weights = raw[i]!;
    for (let u = 0; u < size; u++) weights[u] = weights[u]! / sum[start + u]!;
  }
  return raw;
}

/** Copies one tile out of an image (planar), keeping its channels. */
export function cropImage(image: ImageBuffer, rect: Pick<TileRect, 'x' | 'y' | 'width' | 'height'>): ImageBuffer {
  const tile = createImage(rect.width, rect.height, image.channels);
  const srcPlane = image.width * image.height;
  const dstPlane = rect.width * rect.height;
  for (let c = 0; c < image.channels; c++) {
    for (let y = 0; y < rect.height; y++) {
      const from = c * srcPlane + (rect.y + y) * image.width + rect.x;
      tile.data.set(image.data.subarray(from, from + rect.width), c * dstPlane + y * rect.width);
    }
  }
  return image.meta ? { ...tile, meta: image.meta } : tile;
}
