/**
 * Runs a super-resolution session on one RGB tile: scales pixels to the model's range, pads as the model needs
 * (reflect border for unpadded nets, size alignment), runs, crops the result back to exactly `scale` times the
 * tile and returns it on 0-1. Self-ensemble averages the 8 flips/rotations. Browser-safe.
 */
import { CoserError, type InferenceSession, type RunOptions } from '@coser/runtime';
import { cropPlanes, type Planes, padReflect, transform, untransform } from './planes';

/** What the runner needs from a model's manifest entry (see `readSrEntry`). */
export interface SrModelSpec {
  readonly name: string;
  readonly scale: number;
  readonly inputRange: 1 | 255;
  readonly inputPad: number;
  readonly sizeMultiple: number;
  readonly input: string;
  readonly output: string;
}

export interface RunSrOptions extends RunOptions {
  /** Average the 8 dihedral transforms (8 model runs per tile). */
  readonly selfEnsemble?: boolean;
}

/**
 * Upscales a 3-channel CHW tile (values 0-1) by `spec.scale`.
 *
 * @example
 * const out = await runSr(session, spec, { width: 64, height: 64, channels: 3, data });
 */
export async function runSr(
  session: InferenceSession,
  spec: SrModelSpec,
  tile: Planes,
  options: RunSrOptions = {},
): Promise<Planes> {
  if (!options.selfEnsemble) return runOnce(session, spec, tile, options);
  const out = new Float32Array(tile.width * spec.scale * tile.height * spec.scale * tile.channels);
  for (let t = 0; t < 8; t++) {
    const result = untransform(await runOnce(session, spec, transform(tile, t), options), t);
    for (let i = 0; i < out.length; i++) out[i]! += result.data[i]!;
  }
  for (let i = 0; i < out.length; i++) out[i]! /= 8;
  return { width: tile.width * spec.scale, height: tile.height * spec.scale, channels: tile.channels, data: out };
}

async function runOnce(
  session: InferenceSession,
  spec: SrModelSpec,
  tile: Planes,
  options: RunOptions,
): Promise<Planes> {
  const { scale, inputPad: pad, sizeMultiple: m } = spec;
  const alignedW = Math.ceil(tile.width / m) * m;
  const alignedH = Math.ceil(tile.height / m) * m;
  const padded = padReflect(tile, pad, pad + alignedW - tile.width, pad + alignedH - tile.height, pad);
  const data = spec.inputRange === 1 ? padded.data : padded.data.map((v) => v * 255);
  const feeds = { [spec.input]: { dtype: 'float32' as const, dims: [1, 3, padded.height, padded.width], data } };
  const result = await session.run(feeds, options.signal ? { signal: options.signal } : {});
  const out = result[spec.output] ?? Object.values(result)[0];
  if (out?.dtype !== 'float32' || out.dims.length !== 4 || out.dims[1] !== 3)
    throw new CoserError('MODEL_INCOMPATIBLE', `${spec.name} did not return a 1x3xHxW float32 image`);
  const outH = out.dims[2]!;
  const outW = out.dims[3]!;
  // Padded nets return (aligned + 2 pad) * scale; unpadded ones return less, centred on the same content.
  const offX = (outW - alignedW * scale) / 2 + 0;
  const offY = (outH - alignedH * scale) / 2 + 0;
  const wantW = tile.width * scale;
  const wantH = tile.height * scale;
  const ox = Number.isInteger(offX) && offX >= 0 ? offX : -1;
  const oy = Number.isInteger(offY) && offY >= 0 ? offY : -1;
  if (ox < 0 || oy < 0 || ox + wantW > outW || oy + wantH > outH)
    throw new CoserError(
      'MODEL_INCOMPATIBLE',
      `${spec.name} turned a ${padded.width}x${padded.height} input into ${outW}x${outH}; x${scale} was expected`,
    );
  const planes = cropPlanes(
    { width: outW, height: outH, channels: 3, data: out.data as Float32Array },
    ox,
    oy,
    wantW,
    wantH,
  );
  if (spec.inputRange === 255) {
    // The crop may alias the session's output buffer only when nothing was cut; copy before scaling in place.
    const scaled = planes.data === out.data ? new Float32Array(planes.data) : planes.data;
    for (let i = 0; i < scaled.length; i++) scaled[i]! /= 255;
    return { ...planes, data: scaled };
  }
  return planes;
}
