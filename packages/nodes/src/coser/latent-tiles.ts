/**
 * Latent tiling as in StableSR's tiled sampling: the latent is cut into overlapping tiles, the guided eps of every
 * tile is computed at EVERY step, and the tiles' eps are blended with Gaussian weights before the sampler update.
 * Blending eps (not finished tiles) is what makes the seams disappear.
 */

/** A tile in latent coordinates. */
export interface LatentRect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Offsets along one axis: stride tile - overlap, the last tile shifted back to end at the border. */
function axisOffsets(size: number, tile: number, overlap: number): number[] {
  if (size <= tile) return [0];
  const stride = tile - overlap;
  const offsets: number[] = [];
  for (let o = 0; ; o += stride) {
    if (o + tile >= size) {
      offsets.push(size - tile);
      break;
    }
    offsets.push(o);
  }
  return offsets;
}

/**
 * The tiles covering a `width` x `height` latent. A latent that fits one tile gives exactly one tile (the whole
 * latent), so tiled and untiled sampling agree there.
 *
 * @example
 * planLatentTiles(96, 64, 64, 32); // 2 tiles: x = 0 and x = 32
 */
export function planLatentTiles(width: number, height: number, tile: number, overlap: number): LatentRect[] {
  if (!(tile > 0) || !(overlap >= 0) || overlap >= tile) {
    throw new RangeError(`latent tile ${tile} with overlap ${overlap} is not a valid tiling`);
  }
  const tw = Math.min(tile, width);
  const th = Math.min(tile, height);
  const rects: LatentRect[] = [];
  for (const y of axisOffsets(height, tile, overlap)) {
    for (const x of axisOffsets(width, tile, overlap)) rects.push({ x, y, width: tw, height: th });
  }
  return rects;
}

/** The Gaussian's variance relative to the tile size (StableSR's `var = 0.01`). */
export const GAUSSIAN_VARIANCE = 0.01;

/**
 * The reproduction's `_gaussian_weights` (ldm/models/diffusion/ddpm.py:3131-3147, from StableSR): per axis
 * exp(-(i - mid)^2 / size^2 / (2 var)) / sqrt(2 pi var), and the outer product of the two axes (row-major, height x
 * width). Its midpoints are not symmetric: (width - 1) / 2 along x but height / 2 along y, so the weights peak half
 * a cell below the tile's centre. Kept as it is: the blend (and so every tiled result) depends on it.
 */
export function gaussianWeights(width: number, height: number, variance = GAUSSIAN_VARIANCE): Float32Array {
  const axis = (size: number, mid: number): Float64Array => {
    const out = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      out[i] = Math.exp(-((i - mid) ** 2) / (size * size) / (2 * variance)) / Math.sqrt(2 * Math.PI * variance);
    }
    return out;
  };
  const xs = axis(width, (width - 1) / 2);
  const ys = axis(height, height / 2);
  const w = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) w[y * width + x] = ys[y]! * xs[x]!;
  return w;
}

/** Copies a rect out of a CHW tensor with `channels` planes of `width` x `height`. */
export function cropLatent(
  data: Float32Array,
  channels: number,
  width: number,
  height: number,
  rect: LatentRect,
): Float32Array {
  const out = new Float32Array(channels * rect.width * rect.height);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < rect.height; y++) {
      const src = (c * height + rect.y + y) * width + rect.x;
      out.set(data.subarray(src, src + rect.width), (c * rect.height + y) * rect.width);
    }
  }
  return out;
}

/**
 * Computes a whole-latent result from per-tile results blended with Gaussian weights (normalised by the summed
 * weights, so every position is a convex combination of the tiles covering it). With one tile, the tile's result
 * is returned unchanged (no rounding from the weights).
 *
 * @example
 * const eps = await blendTiles(4, w, h, planLatentTiles(w, h, 64, 32), (rect) => guidedEps(rect));
 */
export async function blendTiles(
  channels: number,
  width: number,
  height: number,
  tiles: readonly LatentRect[],
  runTile: (rect: LatentRect, index: number) => Promise<Float32Array>,
): Promise<Float32Array> {
  if (tiles.length === 1 && tiles[0]!.width === width && tiles[0]!.height === height) {
    return runTile(tiles[0]!, 0);
  }
  const sum = new Float32Array(channels * width * height);
  const weightSum = new Float32Array(width * height);
  const weightCache = new Map<string, Float32Array>();
  for (let index = 0; index < tiles.length; index++) {
    const rect = tiles[index]!;
    const key = `${rect.width}x${rect.height}`;
    let weights = weightCache.get(key);
    if (!weights) {
      weights = gaussianWeights(rect.width, rect.height);
      weightCache.set(key, weights);
    }
    const result = await runTile(rect, index);
    if (result.length !== channels * rect.width * rect.height) {
      throw new RangeError(
        `tile result has ${result.length} values, expected ${channels}x${rect.height}x${rect.width}`,
      );
    }
    for (let y = 0; y < rect.height; y++) {
      for (let x = 0; x < rect.width; x++) {
        const wgt = weights[y * rect.width + x]!;
        const pos = (rect.y + y) * width + rect.x + x;
        weightSum[pos] = weightSum[pos]! + wgt;
        for (let c = 0; c < channels; c++) {
          const dst = c * width * height + pos;
          sum[dst] = sum[dst]! + wgt * result[(c * rect.height + y) * rect.width + x]!;
        }
      }
    }
  }
  const plane = width * height;
  for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! / weightSum[i % plane]!;
  return sum;
}
