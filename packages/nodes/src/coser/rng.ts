/**
 * Seeded, reproducible Gaussian noise for the samplers: xoshiro128** (seeded through splitmix32) for uniforms and the
 * Box-Muller transform for normals. Same seed -> bit-identical noise in Node and in browsers, whatever the backend.
 */

/** The largest seed the nodes accept (seeds are stored in graphs and provenance as plain JSON numbers). */
export const MAX_SEED = 2 ** 32 - 1;

/** A stream of standard normal samples. */
export interface GaussianRng {
  /** The seed the stream started from (for provenance). */
  readonly seed: number;
  /** One uniform sample in (0, 1). */
  uniform(): number;
  /** One standard normal sample. */
  normal(): number;
  /** Fills `out` with standard normal samples and returns it. */
  fill(out: Float32Array): Float32Array;
}

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * Creates a Gaussian stream from an integer seed in [0, 2^32 - 1].
 *
 * @example
 * const rng = createGaussianRng(42);
 * const noise = rng.fill(new Float32Array(4 * 64 * 64));
 */
export function createGaussianRng(seed: number): GaussianRng {
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new RangeError(`seed must be an integer in [0, ${MAX_SEED}], got ${seed}`);
  }
  const init = splitmix32(seed);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  const next = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  // 53 random bits, then shifted into (0, 1) so that log() in Box-Muller never sees 0.
  const uniform = (): number => {
    const hi = next() >>> 5;
    const lo = next() >>> 6;
    return (hi * 67108864 + lo + 0.5) / 9007199254740992;
  };
  let spare: number | undefined;
  const normal = (): number => {
    if (spare !== undefined) {
      const v = spare;
      spare = undefined;
      return v;
    }
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const theta = 2 * Math.PI * uniform();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
  return {
    seed,
    uniform,
    normal,
    fill(out) {
      for (let i = 0; i < out.length; i++) out[i] = normal();
      return out;
    },
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
