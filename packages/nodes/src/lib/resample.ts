import type { ImageBuffer } from '@coser/runtime';
import { createImage } from '@coser/runtime';

/**
 * Resampling filters. `bicubic` is Keys' cubic with a = -0.5 (as PIL and MATLAB use); `lanczos` is Lanczos-3.
 * `bicubic-torch` is PyTorch's bicubic (`F.interpolate(mode='bicubic', align_corners=False)`, torchvision's tensor
 * `Resize(BICUBIC)`): the cubic with a = -0.75, four taps around the sample point, border pixels replicated
 * (indices clamped, weights never renormalised) and no antialias whatever the scale, so `antialias` is ignored.
 * CoSeR's nodes use it because the reproduction resizes with torch.
 */
export type ResampleFilter = 'nearest' | 'bilinear' | 'bicubic' | 'bicubic-torch' | 'lanczos';

export interface ResampleOptions {
  readonly filter: ResampleFilter;
  /**
   * When downscaling, widen the kernel by the scale so every source pixel contributes (PIL's behaviour, default true).
   * Without it the kernel keeps its own support (PyTorch/OpenCV `antialias=False`) and edges replicate the border.
   */
  readonly antialias?: boolean;
}

interface Kernel {
  readonly support: number;
  weight(x: number): number;
}

/** Keys' cubic convolution kernel with parameter `a`. */
function cubic(x: number, a: number): number {
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

const KERNELS: Record<Exclude<ResampleFilter, 'nearest'>, Kernel> = {
  bilinear: { support: 1, weight: (x) => Math.max(0, 1 - Math.abs(x)) },
  bicubic: { support: 2, weight: (x) => cubic(x, -0.5) },
  'bicubic-torch': { support: 2, weight: (x) => cubic(x, -0.75) },
  lanczos: { support: 3, weight: (x) => (Math.abs(x) < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

/** Per output index: the first source index and the normalised weights of a contiguous source window. */
interface WeightTable {
  readonly starts: Int32Array;
  readonly counts: Int32Array;
  /** `taps` weights per output index, zero-padded past `counts[i]`. */
  readonly weights: Float32Array;
  readonly taps: number;
  /** Source index per (output, tap) when the window was clamped instead of clipped (no-antialias mode). */
  readonly indices?: Int32Array;
}

function buildTable(srcSize: number, dstSize: number, filter: ResampleFilter, antialias: boolean): WeightTable {
  const scale = srcSize / dstSize;
  if (filter === 'nearest') {
    const starts = new Int32Array(dstSize);
    for (let i = 0; i < dstSize; i++) starts[i] = Math.min(srcSize - 1, Math.floor((i + 0.5) * scale));
    return { starts, counts: new Int32Array(dstSize).fill(1), weights: new Float32Array(dstSize).fill(1), taps: 1 };
  }
  const kernel = KERNELS[filter];
  const widen = antialias ? Math.max(scale, 1) : 1;
  const support = kernel.support * widen;
  const taps = Math.ceil(support) * 2 + 1;
  const starts = new Int32Array(dstSize);
  const counts = new Int32Array(dstSize);
  const weights = new Float32Array(dstSize * taps);
  const indices = antialias ? undefined : new Int32Array(dstSize * taps);
  for (let i = 0; i < dstSize; i++) {
    const center = (i + 0.5) * scale;
    // PIL clips the window to the image and renormalises; without antialias, torch/OpenCV replicate the edge pixel.
    let lo = Math.floor(center - support + 0.5);
    let hi = Math.floor(center + support + 0.5);
    if (antialias) {
      lo = Math.max(lo, 0);
      hi = Math.min(hi, srcSize);
    }
    const count = Math.min(hi - lo, taps);
    let total = 0;
    for (let k = 0; k < count; k++) {
      const w = kernel.weight((lo + k - center + 0.5) / widen);
      weights[i * taps + k] = w;
      total += w;
      if (indices) indices[i * taps + k] = Math.min(srcSize - 1, Math.max(0, lo + k));
    }
    if (total !== 0) for (let k = 0; k < count; k++) weights[i * taps + k]! /= total;
    starts[i] = lo;
    counts[i] = count;
  }
  return { starts, counts, weights, taps, ...(indices ? { indices } : {}) };
}

/** Resamples rows of `src` (width `sw`) along x into `dst` (width `dw`); `rows` rows. */
function resampleRows(src: Float32Array, sw: number, dst: Float32Array, dw: number, rows: number, t: WeightTable) {
  const { starts, counts, weights, taps, indices } = t;
  for (let y = 0; y < rows; y++) {
    const srcRow = y * sw;
    const dstRow = y * dw;
    for (let x = 0; x < dw; x++) {
      const base = x * taps;
      const n = counts[x]!;
      let acc = 0;
      if (indices) {
        for (let k = 0; k < n; k++) acc += src[srcRow + indices[base + k]!]! * weights[base + k]!;
      } else {
        const s = srcRow + starts[x]!;
        for (let k = 0; k < n; k++) acc += src[s + k]! * weights[base + k]!;
      }
      dst[dstRow + x] = acc;
    }
  }
}

/** Resamples columns of `src` (height `sh`, width `w`) along y into `dst` (height `dh`). */
function resampleColumns(src: Float32Array, w: number, dst: Float32Array, dh: number, t: WeightTable) {
  const { starts, counts, weights, taps, indices } = t;
  for (let y = 0; y < dh; y++) {
    const base = y * taps;
    const n = counts[y]!;
    const out = y * w;
    // Row-wise accumulation keeps memory access sequential (the column walk would stride by `w`).
    for (let x = 0; x < w; x++) dst[out + x] = 0;
    for (let k = 0; k < n; k++) {
      const sy = indices ? indices[base + k]! : starts[y]! + k;
      const wk = weights[base + k]!;
      const row = sy * w;
      for (let x = 0; x < w; x++) dst[out + x]! += src[row + x]! * wk;
    }
  }
}

/**
 * Resamples one plane (row-major, `sw` x `sh`) to `dw` x `dh` with a separable filter: rows first, then columns.
 *
 * @example
 * const small = resamplePlane(plane, 256, 256, 64, 64, { filter: 'bicubic' });
 */
export function resamplePlane(
  src: Float32Array,
  sw: number,
  sh: number,
  dw: number,
  dh: number,
  options: ResampleOptions,
): Float32Array {
  // torch's bicubic never antialiases (and replicates the border): see ResampleFilter.
  const antialias = options.filter === 'bicubic-torch' ? false : (options.antialias ?? true);
  if (dw < 1 || dh < 1 || sw < 1 || sh < 1) throw new RangeError(`cannot resample ${sw}x${sh} to ${dw}x${dh}`);
  const xTable = buildTable(sw, dw, options.filter, antialias);
  const yTable = buildTable(sh, dh, options.filter, antialias);
  const tmp = sw === dw ? src : new Float32Array(dw * sh);
  if (tmp !== src) resampleRows(src, sw, tmp, dw, sh, xTable);
  if (sh === dh) return tmp === src ? src.slice() : tmp;
  const dst = new Float32Array(dw * dh);
  resampleColumns(tmp, dw, dst, dh, yTable);
  return dst;
}

/**
 * Resamples every plane of an image to `width` x `height` (an output size, not a factor). Meta is kept.
 *
 * @example
 * const lr = resampleImage(hr, hr.width / 4, hr.height / 4, { filter: 'bicubic' });
 */
export function resampleImage(
  image: ImageBuffer,
  width: number,
  height: number,
  options: ResampleOptions,
): ImageBuffer {
  const size = image.width * image.height;
  const out = new Float32Array(width * height * image.channels);
  for (let c = 0; c < image.channels; c++) {
    const src = image.data.subarray(c * size, (c + 1) * size);
    out.set(resamplePlane(src, image.width, image.height, width, height, options), c * width * height);
  }
  return createImage(width, height, image.channels, out, image.meta);
}
