/**
 * The diffusion noise schedule of CoSeR (StableSR's, itself Stable Diffusion's "scaled linear" schedule) and its
 * respacing to fewer sampling steps. Everything is computed in float64 once per run; the sampler reads the arrays.
 */

/** Number of diffusion steps the networks were trained with. */
export const TRAIN_STEPS = 1000;
/** First and last beta of the base schedule (Stable Diffusion's `linear_start` / `linear_end`). */
export const BETA_START = 0.00085;
export const BETA_END = 0.012;

/** The base (training) schedule: betas and cumulative alpha products, index = training timestep. */
export interface BaseSchedule {
  readonly betas: Float64Array;
  readonly alphasCumprod: Float64Array;
}

/**
 * beta_i = linspace(sqrt(0.00085), sqrt(0.012), 1000)_i ^ 2 and abar_i = prod_{j<=i} (1 - beta_j).
 *
 * @example
 * const base = baseSchedule();
 * base.alphasCumprod[999]; // ~0.00466
 */
export function baseSchedule(steps = TRAIN_STEPS, betaStart = BETA_START, betaEnd = BETA_END): BaseSchedule {
  const betas = new Float64Array(steps);
  const alphasCumprod = new Float64Array(steps);
  const a = Math.sqrt(betaStart);
  const b = Math.sqrt(betaEnd);
  let product = 1;
  for (let i = 0; i < steps; i++) {
    // numpy's linspace: start + i * (stop - start) / (n - 1), with the last value exactly `stop`.
    const s = i === steps - 1 ? b : a + (i * (b - a)) / (steps - 1);
    betas[i] = s * s;
    product *= 1 - s * s;
    alphasCumprod[i] = product;
  }
  return { betas, alphasCumprod };
}

/**
 * Python's `round` (round half to even), which StableSR's `space_timesteps` uses; `Math.round` rounds halves up.
 */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * The training timesteps a respaced sampler visits, ascending, exactly as the reproduction's `space_timesteps`
 * (scripts/inference.py:29-79, from guided-diffusion) computes them: a float stride (T - 1) / (S - 1) is
 * *accumulated* and each running sum rounded half to even. The accumulated sum drifts from k * stride in the last
 * bits, which moves one timestep by 1 for 283 of the step counts 2..1000 (S = 21: 499, not 500); S = 50 is
 * unaffected. Needs S >= 2 (both ends of the schedule are always visited).
 */
export function respacedTimesteps(steps: number, trainSteps = TRAIN_STEPS): number[] {
  if (!Number.isInteger(steps) || steps < 2 || steps > trainSteps) {
    throw new RangeError(`sampling steps must be an integer in [2, ${trainSteps}], got ${steps}`);
  }
  const stride = (trainSteps - 1) / (steps - 1);
  const out: number[] = [];
  let current = 0;
  for (let k = 0; k < steps; k++) {
    out.push(roundHalfEven(current));
    current += stride;
  }
  return out;
}

/**
 * A schedule respaced to S steps, with the DDPM posterior of each step precomputed. Index k is the k-th visited
 * timestep (ascending); sampling walks k = S-1 down to 0.
 */
export interface RespacedSchedule {
  /** The original training timestep t_k, which is what the network is given. */
  readonly timesteps: readonly number[];
  /** beta'_k = 1 - abar_{t_k} / abar_{t_{k-1}}, with abar_{t_{-1}} = 1. */
  readonly betas: Float64Array;
  /** abar'_k = abar_{t_k}. */
  readonly alphasCumprod: Float64Array;
  /** abar'_{k-1} (1 for k = 0). */
  readonly alphasCumprodPrev: Float64Array;
  /** Posterior variance beta'_k (1 - abar'_{k-1}) / (1 - abar'_k); 0 at k = 0. */
  readonly posteriorVariance: Float64Array;
  /** log of the posterior variance with its k = 0 entry replaced by the k = 1 one (the "clipped" log). */
  readonly posteriorLogVarianceClipped: Float64Array;
  /** Posterior mean = coef1 * x0 + coef2 * x_t. */
  readonly posteriorMeanCoef1: Float64Array;
  readonly posteriorMeanCoef2: Float64Array;
}

/**
 * Respaces the base schedule to `steps` sampling steps exactly as StableSR's `SpacedDiffusion` does.
 *
 * @example
 * const s = respaceSchedule(50);
 * s.timesteps[49]; // 999
 */
export function respaceSchedule(steps: number, base: BaseSchedule = baseSchedule()): RespacedSchedule {
  const timesteps = respacedTimesteps(steps, base.alphasCumprod.length);
  const n = timesteps.length;
  const betas = new Float64Array(n);
  const alphasCumprod = new Float64Array(n);
  const alphasCumprodPrev = new Float64Array(n);
  let last = 1;
  for (let k = 0; k < n; k++) {
    const abar = base.alphasCumprod[timesteps[k]!]!;
    betas[k] = 1 - abar / last;
    alphasCumprod[k] = abar;
    alphasCumprodPrev[k] = last;
    last = abar;
  }
  const posteriorVariance = new Float64Array(n);
  const posteriorMeanCoef1 = new Float64Array(n);
  const posteriorMeanCoef2 = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const beta = betas[k]!;
    const abar = alphasCumprod[k]!;
    const prev = alphasCumprodPrev[k]!;
    posteriorVariance[k] = (beta * (1 - prev)) / (1 - abar);
    posteriorMeanCoef1[k] = (beta * Math.sqrt(prev)) / (1 - abar);
    posteriorMeanCoef2[k] = ((1 - prev) * Math.sqrt(1 - beta)) / (1 - abar);
  }
  // The posterior variance is 0 at the first step, so its log is clipped to the next step's (as in guided-diffusion).
  const posteriorLogVarianceClipped = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    posteriorLogVarianceClipped[k] = Math.log(k === 0 ? posteriorVariance[Math.min(1, n - 1)]! : posteriorVariance[k]!);
  }
  return {
    timesteps,
    betas,
    alphasCumprod,
    alphasCumprodPrev,
    posteriorVariance,
    posteriorLogVarianceClipped,
    posteriorMeanCoef1,
    posteriorMeanCoef2,
  };
}
