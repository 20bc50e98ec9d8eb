// Small planar float helpers shared by the image nodes. Pure and browser-safe.

/** Mirror index into [0, n) (reflect without repeating the edge, as scipy's 'mirror'); n = 1 gives 0. */
function mirror(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = Math.abs(i) % period;
  if (m >= n) m = period - m;
  return m;
}

/** Separable 1-D filtering of a plane along x then y with an odd-length kernel and index mapping `edge`. */
function separable(
  src: Float32Array,
  w: number,
  h: number,
  kernel: readonly number[],
  step: number,
  edge: (i: number, n: number) => number,
): Float32Array {
  const r = (kernel.length - 1) / 2;
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  // Index tables: the edge mapping is computed once per offset, not per pixel.
  const xIdx = kernel.map((_, t) => Int32Array.from({ length: w }, (_, x) => edge(x + (t - r) * step, w)));
  const yIdx = kernel.map((_, t) => Int32Array.from({ length: h }, (_, y) => edge(y + (t - r) * step, h)));
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let t = 0; t < kernel.length; t++) {
      const k = kernel[t]!;
      const idx = xIdx[t]!;
      for (let x = 0; x < w; x++) tmp[row + x]! += src[row + idx[x]!]! * k;
    }
  }
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let t = 0; t < kernel.length; t++) {
      const k = kernel[t]!;
      const from = yIdx[t]![y]! * w;
      for (let x = 0; x < w; x++) out[row + x]! += tmp[from + x]! * k;
    }
  }
  return out;
}

/** Gaussian blur of one plane (kernel radius ceil(3 sigma), mirrored edges). sigma <= 0 returns a copy. */
export function gaussianBlurPlane(src: Float32Array, w: number, h: number, sigma: number): Float32Array {
  if (sigma <= 0) return src.slice();
  const r = Math.max(1, Math.ceil(3 * sigma));
  const kernel: number[] = [];
  for (let i = -r; i <= r; i++) kernel.push(Math.exp(-(i * i) / (2 * sigma * sigma)));
  const total = kernel.reduce((a, b) => a + b, 0);
  return separable(
    src,
    w,
    h,
    kernel.map((k) => k / total),
    1,
    mirror,
  );
}

const clampIndex = (i: number, n: number) => (i < 0 ? 0 : i >= n ? n - 1 : i);

/**
 * The low-frequency part of a plane as StableSR's wavelet colour fix computes it: `levels` passes of the 3x3
 * [1 2 1]^2 / 16 blur with dilation 1, 2, 4, ... and replicated edges.
 */
export function waveletLowPass(src: Float32Array, w: number, h: number, levels = 5): Float32Array {
  let low = src;
  for (let level = 0; level < levels; level++) low = separable(low, w, h, [0.25, 0.5, 0.25], 2 ** level, clampIndex);
  return low === src ? src.slice() : low;
}

/** Mean and (population) standard deviation of a plane. */
export function planeStats(values: Float32Array): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  const mean = sum / values.length;
  let sq = 0;
  for (let i = 0; i < values.length; i++) sq += (values[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(sq / values.length) };
}

/** A small, fast seeded PRNG (mulberry32): the same seed gives the same sequence everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples from a uniform source (Box-Muller). */
export function seededGaussian(seed: number): () => number {
  const uniform = seededRandom(seed);
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = Math.max(uniform(), 1e-12);
    const v = uniform();
    const mag = Math.sqrt(-2 * Math.log(u));
    spare = mag * Math.sin(2 * Math.PI * v);
    return mag * Math.cos(2 * Math.PI * v);
  };
}
