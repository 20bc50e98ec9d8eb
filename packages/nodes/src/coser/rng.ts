/**
 * Seeded, reproducible Gaussian noise for the samplers: xoshiro128** (seeded through splitmix32) for uniforms and the
 * Box-Muller transform (Marsaglia's polar form) for normals. Same seed -> the same noise whatever the inference backend;
 * bit-identical wherever V8 runs it (Node, Chromium), since other engines' Math.log may differ in the last bit.
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
  /** Draws and discards `count` normal samples (moves the stream on as `count` calls of normal() would). */
  skip(count: number): void;
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

/** xoshiro128** with the second normal of each Box-Muller pair kept between calls. */
class Xoshiro128Gaussian implements GaussianRng {
  readonly seed: number;
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number) {
    this.seed = seed;
    const init = splitmix32(seed);
    this.a = init();
    this.b = init();
    this.c = init();
    this.d = init();
  }

  private next(): number {
    const b = this.b;
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    this.c ^= this.a;
    this.d ^= b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** 53 random bits shifted into (0, 1), so that log() in Box-Muller never sees 0. */
  uniform(): number {
    const hi = this.next() >>> 5;
    const lo = this.next() >>> 6;
    return (hi * 67108864 + lo + 0.5) / 9007199254740992;
  }

  /** A uniform in (-1, 1) from one 32-bit draw (the polar method's input). */
  private signed(): number {
    return (this.next() + 0.5) / 2147483648 - 1;
  }

  /**
   * Marsaglia's polar form of Box-Muller: a pair of normals per accepted point of the unit disc, with one log and
   * one sqrt and no trigonometry (about 2x faster than the basic form in V8).
   */
  private pair(): number {
    let u: number;
    let v: number;
    let s: number;
    do {
      u = this.signed();
      v = this.signed();
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * m;
    return u * m;
  }

  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const first = this.pair();
    this.hasSpare = true;
    return first;
  }

  fill(out: Float32Array): Float32Array {
    let i = 0;
    if (this.hasSpare && out.length > 0) out[i++] = this.normal();
    // Pairs straight from the polar method: the same stream as calling normal() repeatedly.
    for (; i + 1 < out.length; i += 2) {
      out[i] = this.pair();
      out[i + 1] = this.spare;
    }
    if (i < out.length) out[i] = this.normal();
    return out;
  }

  skip(count: number): void {
    const scratch = new Float32Array(Math.min(count, 1 << 16));
    for (let left = count; left > 0; left -= scratch.length) {
      this.fill(left >= scratch.length ? scratch : scratch.subarray(0, left));
    }
  }
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
  return new Xoshiro128Gaussian(seed);
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
