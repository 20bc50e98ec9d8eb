import type { InferenceSession, Tensor } from '@coser/runtime';
import { float32Tensor, int64Tensor } from '@coser/runtime';
import { CONTROL_MAPS } from './contract';
import { blendTiles, cropLatent, planLatentTiles } from './latent-tiles';
import { applyGuidance } from './sampler';
import { runStage, type StageContext } from './stage';

/** The contexts of the two guided passes: [text; cognitive] (127 tokens) and the negative prompt (77 tokens). */
export interface GuidanceContexts {
  readonly cond: Tensor<'float32'>;
  readonly uncond: Tensor<'float32'>;
  readonly scale: number;
}

const CTRL = CONTROL_MAPS.map((_, i) => `ctrl_${i}`);

/** Guided eps of the plain SD UNet (reference generation): two passes, the contexts differ in length. */
export function plainUnetEps(
  ctx: StageContext,
  unet: InferenceSession,
  dims: readonly number[],
  guidance: GuidanceContexts,
): (x: Float32Array, t: number) => Promise<Float32Array> {
  return async (x, t) => {
    const feeds = { x: float32Tensor(dims, x), t: int64Tensor([1], [t]) };
    const cond = (await runStage(ctx, unet, { ...feeds, context: guidance.cond }, ['eps'])).eps.data;
    if (guidance.scale === 1) return cond;
    const uncond = (await runStage(ctx, unet, { ...feeds, context: guidance.uncond }, ['eps'])).eps.data;
    return applyGuidance(cond, uncond, guidance.scale);
  };
}

/** What the All-in-Attention eps needs besides x and t. */
export interface AiaInputs {
  readonly controlnet: InferenceSession;
  readonly unet: InferenceSession;
  /** z_lr and z_ref, 1xCxHxW with the latent's size. */
  readonly lr: Float32Array;
  readonly reference: Float32Array;
  readonly channels: number;
  readonly width: number;
  readonly height: number;
  readonly guidance: GuidanceContexts;
  /** Latent tiling; undefined = the whole latent in one pass. */
  readonly tiles?: { readonly size: number; readonly overlap: number };
}

/**
 * The guided eps of the All-in-Attention UNet. Per tile: the ControlNet runs twice (hint z_lr, hint z_ref, with the
 * conditional context), then the UNet's conditional and unconditional passes reuse those 20 feature maps. With
 * tiling, the guided eps of all tiles is blended with Gaussian weights at every step.
 */
export function aiaEps(ctx: StageContext, inputs: AiaInputs): (x: Float32Array, t: number) => Promise<Float32Array> {
  const { channels, width, height } = inputs;
  const rects = inputs.tiles
    ? planLatentTiles(width, height, inputs.tiles.size, inputs.tiles.overlap)
    : [{ x: 0, y: 0, width, height }];
  return (x, t) =>
    blendTiles(channels, width, height, rects, async (rect) => {
      const whole = rect.width === width && rect.height === height;
      const crop = (data: Float32Array) => (whole ? data : cropLatent(data, channels, width, height, rect));
      const dims = [1, channels, rect.height, rect.width];
      const xt = float32Tensor(dims, crop(x));
      const tt = int64Tensor([1], [t]);
      const base = { x: xt, t: tt, context: inputs.guidance.cond };
      const lrMaps = await runStage(
        ctx,
        inputs.controlnet,
        { ...base, hint: float32Tensor(dims, crop(inputs.lr)) },
        CTRL,
      );
      const refMaps = await runStage(
        ctx,
        inputs.controlnet,
        { ...base, hint: float32Tensor(dims, crop(inputs.reference)) },
        CTRL,
      );
      const maps: Record<string, Tensor> = {};
      CTRL.forEach((name, i) => {
        maps[`lr_${i}`] = lrMaps[name]!;
        maps[`ref_${i}`] = refMaps[name]!;
      });
      const cond = (await runStage(ctx, inputs.unet, { ...base, ...maps }, ['eps'])).eps.data;
      if (inputs.guidance.scale === 1) return cond;
      const uncond = (await runStage(ctx, inputs.unet, { ...base, context: inputs.guidance.uncond, ...maps }, ['eps']))
        .eps.data;
      return applyGuidance(cond, uncond, inputs.guidance.scale);
    });
}
