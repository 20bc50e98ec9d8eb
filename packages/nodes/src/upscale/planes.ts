/**
 * Planar (CHW) image helpers the upscaler needs around a model call: the 8 dihedral transforms of self-ensemble,
 * reflect padding and cropping. Browser-safe, allocation-light (one output array per call).
 */

/** A CHW float image: `channels` planes of `width * height`. */
export interface Planes {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly data: Float32Array;
}

/**
 * One of the 8 flips/rotations (the dihedral group of the square): bit 0 mirrors left-right, bit 1 top-bottom,
 * bit 2 transposes (applied first). Every transform here is undone by {@link untransform} with the same index.
 */
export function transform(p: Planes, t: number): Planes {
  const transpose = (t & 4) !== 0;
  const flipX = (t & 1) !== 0;
  const flipY = (t & 2) !== 0;
  const w = transpose ? p.height : p.width;
  const h = transpose ? p.width : p.height;
  const out = new Float32Array(p.data.length);
  const size = p.width * p.height;
  for (let c = 0; c < p.channels; c++) {
    const src = c * size;
    for (let y = 0; y < h; y++) {
      const ty = flipY ? h - 1 - y : y;
      for (let x = 0; x < w; x++) {
        const tx = flipX ? w - 1 - x : x;
        // (tx, ty) is the pixel in the transposed-or-not frame; map back to the source.
        const sx = transpose ? ty : tx;
        const sy = transpose ? tx : ty;
        out[src + y * w + x] = p.data[src + sy * p.width + sx]!;
      }
    }
  }
  return { width: w, height: h, channels: p.channels, data: out };
}

/** Inverse of {@link transform} for the same `t`: flips first, then the transpose. */
export function untransform(p: Planes, t: number): Planes {
  const transpose = (t & 4) !== 0;
  const flipX = (t & 1) !== 0;
  const flipY = (t & 2) !== 0;
  const w = transpose ? p.height : p.width;
  const h = transpose ? p.width : p.height;
  const out = new Float32Array(p.data.length);
  const size = p.width * p.height;
  for (let c = 0; c < p.channels; c++) {
    const base = c * size;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        // Output pixel (x, y) of the original frame sits at (x, y) or (y, x) in the transposed frame, then flipped.
        const tx = transpose ? y : x;
        const ty = transpose ? x : y;
        const fx = flipX ? p.width - 1 - tx : tx;
        const fy = flipY ? p.height - 1 - ty : ty;
        out[base + y * w + x] = p.data[base + fy * p.width + fx]!;
      }
    }
  }
  return { width: w, height: h, channels: p.channels, data: out };
}

function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}

/** Reflect-pads (edge not repeated, like numpy's 'reflect' and OpenCV's BORDER_REFLECT_101). */
export function padReflect(p: Planes, top: number, right: number, bottom: number, left: number): Planes {
  if (top === 0 && right === 0 && bottom === 0 && left === 0) return p;
  const w = p.width + left + right;
  const h = p.height + top + bottom;
  const out = new Float32Array(w * h * p.channels);
  const rowMap = Array.from({ length: h }, (_, y) => reflect(y - top, p.height));
  const colMap = Array.from({ length: w }, (_, x) => reflect(x - left, p.width));
  for (let c = 0; c < p.channels; c++) {
    const src = c * p.width * p.height;
    const dst = c * w * h;
    for (let y = 0; y < h; y++) {
      const row = src + rowMap[y]! * p.width;
      for (let x = 0; x < w; x++) out[dst + y * w + x] = p.data[row + colMap[x]!]!;
    }
  }
  return { width: w, height: h, channels: p.channels, data: out };
}

/** A `width` x `height` window starting at (`x`, `y`). */
export function cropPlanes(p: Planes, x: number, y: number, width: number, height: number): Planes {
  if (x === 0 && y === 0 && width === p.width && height === p.height) return p;
  if (x < 0 || y < 0 || x + width > p.width || y + height > p.height)
    throw new RangeError(`crop ${width}x${height}+${x}+${y} leaves the ${p.width}x${p.height} image`);
  const out = new Float32Array(width * height * p.channels);
  for (let c = 0; c < p.channels; c++) {
    const src = c * p.width * p.height;
    for (let row = 0; row < height; row++) {
      const start = src + (y + row) * p.width + x;
      out.set(p.data.subarray(start, start + width), (c * height + row) * width);
    }
  }
  return { width, height, channels: p.channels, data: out };
}
