import type { ExecuteContext, ImageBuffer } from '@coser/runtime';
import { z } from 'zod';
import { latentPreview } from './latent-preview';
import { createGaussianRng, MAX_SEED } from './rng';
import { diffuseToStart, type SamplerMethod, sample } from './sampler';
import { respaceSchedule } from './schedule';

/** The sampling params Generate Reference, All-in-Attention Sample and Tiled Diffusion SR share. */
export const samplingParams = {
  steps: z.number().int().min(2).max(1000).default(50).describe('Sampling steps (the 1000 training steps respaced)'),
  sampler: z
    .enum(['ddpm', 'ddim'])
    .default('ddpm')
    .describe('ddpm: the ancestral sampler CoSeR uses; ddim: deterministic (eta 0), usable with fewer steps'),
  guidance: z.number().min(0).max(30).default(3).describe('Classifier-free guidance scale (1 = no guidance)'),
  seed: z.number().int().min(0).max(MAX_SEED).default(0).describe('Noise seed; the same seed gives the same result'),
  previewEvery: z
    .number()
    .int()
    .min(0)
    .max(1000)
    .default(5)
    .describe('Show a cheap latent preview every N steps (0 = never)'),
};

/** Parsed sampling params. */
export interface SamplingParams {
  readonly steps: number;
  readonly sampler: SamplerMethod;
  readonly guidance: number;
  readonly seed: number;
  readonly previewEvery: number;
}

/** What a node gives the shared sampling loop. */
export interface DiffuseOptions {
  readonly params: SamplingParams;
  /** The LR latent the chain starts from (x_T is this latent diffused to the last timestep). */
  readonly start: Float32Array;
  readonly width: number;
  readonly height: number;
  /** Guided eps of the whole latent at training timestep t. */
  predictEps(x: Float32Array, t: number): Promise<Float32Array>;
  /** Progress label, e.g. "reference". */
  readonly label: string;
  /** Offset and total for progress when one node runs several chains (pixel patches). */
  readonly progressBase?: { done: number; total: number };
  /**
   * Normal samples of the seed's stream to pass over after x_T's noise, before this chain's step noise: the
   * reproduction samples the reference and the restoration from ONE stream (x_T noise, then the reference chain's
   * steps, then the restoration's), so the restoration skips what the reference chain drew.
   */
  readonly skipNormals?: number;
}

/**
 * What a DDPM chain of `steps` steps draws from the stream on a latent of `size` values in the reproduction: one
 * noise tensor per step, the last step's included (p_sample draws it and masks it at t = 0).
 */
export function chainNormals(steps: number, size: number): number {
  return steps * size;
}

/**
 * Runs one seeded diffusion chain with progress per step, a latent preview every N steps and cancellation between
 * steps. x_T = sqrt(abar_T) z + sqrt(1 - abar_T) noise, from the seed's stream; the step noise continues it (after
 * `skipNormals` samples).
 *
 * @example
 * const z = await diffuse(ctx, { params, start: zLr.data, width, height, label: 'reference', predictEps });
 */
export async function diffuse(
  ctx: Pick<ExecuteContext, 'progress' | 'preview' | 'throwIfCancelled'>,
  options: DiffuseOptions,
): Promise<Float32Array> {
  const { params } = options;
  const schedule = respaceSchedule(params.steps);
  const rng = createGaussianRng(params.seed);
  const start = diffuseToStart(options.start, schedule, rng);
  if (options.skipNormals) rng.skip(options.skipNormals);
  const base = options.progressBase ?? { done: 0, total: params.steps };
  return sample({
    schedule,
    method: params.sampler,
    start,
    rng,
    predictEps: (x, t) => options.predictEps(x, t),
    checkCancelled: () => ctx.throwIfCancelled(),
    onStep(step) {
      ctx.progress(base.done + step.done, base.total, `${options.label} step ${step.done}/${step.total}`);
      if (params.previewEvery > 0 && (step.done % params.previewEvery === 0 || step.done === step.total)) {
        const preview: ImageBuffer = latentPreview(step.x0, options.width, options.height);
        ctx.preview(preview);
      }
    },
  });
}
