import type { GaussianRng } from './rng';
import type { RespacedSchedule } from './schedule';

/**
 * `ddpm`: StableSR's ancestral sampler over the respaced posterior (the paper's choice, stochastic).
 * `ddim`: deterministic DDIM (eta = 0) over the same respaced timesteps, usable with fewer steps.
 */
export type SamplerMethod = 'ddpm' | 'ddim';

/** What the sampler reports after each step. */
export interface SamplerStep {
  /** Steps done so far (1..total). */
  readonly done: number;
  readonly total: number;
  /** The training timestep just evaluated. */
  readonly t: number;
  /** The new x_{t-1} (a live buffer: copy it to keep it). */
  readonly x: Float32Array;
  /** The network's x0 prediction at this step (a live buffer), what previews show. */
  readonly x0: Float32Array;
}

/** Options of {@link sample}. */
export interface SampleOptions {
  readonly schedule: RespacedSchedule;
  readonly method?: SamplerMethod;
  /** x_T (not modified; the sampler works on a copy). */
  readonly start: Float32Array;
  /** Noise for the ancestral steps. */
  readonly rng: GaussianRng;
  /**
   * The (guided) eps prediction for x at training timestep t. `step` counts down from total - 1 to 0. The returned
   * array must have x's length and is only read before the next call.
   */
  predictEps(x: Float32Array, t: number, step: number): Promise<Float32Array>;
  /** Called before each step; throws to stop (the executor's `ctx.throwIfCancelled`). */
  checkCancelled?(): void;
  onStep?(step: SamplerStep): void;
}

/**
 * x_T = sqrt(abar_T) * z + sqrt(1 - abar_T) * noise: the LR latent diffused to the last respaced timestep, as
 * StableSR starts from (it never starts from pure noise).
 *
 * @example
 * const xT = diffuseToStart(zLr, respaceSchedule(50), createGaussianRng(seed));
 */
export function diffuseToStart(z: Float32Array, schedule: RespacedSchedule, rng: GaussianRng): Float32Array {
  const abar = schedule.alphasCumprod[schedule.alphasCumprod.length - 1]!;
  const a = Math.sqrt(abar);
  const b = Math.sqrt(1 - abar);
  const out = rng.fill(new Float32Array(z.length));
  for (let i = 0; i < z.length; i++) out[i] = a * z[i]! + b * out[i]!;
  return out;
}

/**
 * Classifier-free guidance: uncond + scale * (cond - uncond), written into `out` (which may alias either input).
 */
export function applyGuidance(
  cond: Float32Array,
  uncond: Float32Array,
  scale: number,
  out: Float32Array = new Float32Array(cond.length),
): Float32Array {
  for (let i = 0; i < cond.length; i++) {
    const u = uncond[i]!;
    out[i] = u + scale * (cond[i]! - u);
  }
  return out;
}

/**
 * Runs the reverse diffusion from x_T down to x_0 over a respaced schedule. The network sees the original training
 * timestep t_k; eps prediction, no x0 clipping (as StableSR).
 *
 * @example
 * const z = await sample({
 *   schedule: respaceSchedule(50), start: xT, rng,
 *   predictEps: (x, t) => unet(x, t),
 *   checkCancelled: () => ctx.throwIfCancelled(),
 * });
 */
export async function sample(options: SampleOptions): Promise<Float32Array> {
  const { schedule, rng } = options;
  const method = options.method ?? 'ddpm';
  const total = schedule.timesteps.length;
  const x = options.start.slice();
  const x0 = new Float32Array(x.length);
  const noise = method === 'ddpm' ? new Float32Array(x.length) : undefined;
  for (let k = total - 1; k >= 0; k--) {
    options.checkCancelled?.();
    const t = schedule.timesteps[k]!;
    const pending = options.predictEps(x, t, k);
    // The network call is already dispatched (onnxruntime runs it off the JS thread): draw this step's noise
    // meanwhile, so the sampler's own cost stays off the critical path. The stream order is unchanged.
    if (noise && k > 0) rng.fill(noise);
    const eps = await pending;
    if (eps.length !== x.length) {
      throw new RangeError(`the eps prediction has ${eps.length} values, the latent ${x.length}`);
    }
    const abar = schedule.alphasCumprod[k]!;
    const sqrtRecip = Math.sqrt(1 / abar);
    const sqrtRecipM1 = Math.sqrt(1 / abar - 1);
    // One pass per step: x0 from eps (kept for previews), then the update of x in place.
    if (method === 'ddim') {
      const prev = schedule.alphasCumprodPrev[k]!;
      const a = Math.sqrt(prev);
      const b = Math.sqrt(1 - prev);
      for (let i = 0; i < x.length; i++) {
        const e = eps[i]!;
        const p0 = sqrtRecip * x[i]! - sqrtRecipM1 * e;
        x0[i] = p0;
        x[i] = a * p0 + b * e;
      }
    } else {
      const c1 = schedule.posteriorMeanCoef1[k]!;
      const c2 = schedule.posteriorMeanCoef2[k]!;
      const sigma = k > 0 ? Math.exp(0.5 * schedule.posteriorLogVarianceClipped[k]!) : 0;
      for (let i = 0; i < x.length; i++) {
        const xi = x[i]!;
        const p0 = sqrtRecip * xi - sqrtRecipM1 * eps[i]!;
        x0[i] = p0;
        x[i] = c1 * p0 + c2 * xi + (sigma === 0 ? 0 : sigma * noise![i]!);
      }
    }
    options.onStep?.({ done: total - k, total, t, x, x0 });
  }
  return x;
}
