/**
 * Fidelity to the CoSeR reproduction (TianheWu/CoSeR at de02dbd), against reference numbers computed once with
 * PyTorch from the reproduction's own code. The fixtures in ./fixtures come from
 * tools/coser-export/make_fixtures.py, which names in each file the reproduction's file and lines; regenerate with
 *   PYTHONPATH=OPEN_CLIP_2_20_SRC python3 tools/coser-export/make_fixtures.py --repo REPRO_DIR [--only NAME ...]
 * (Debian's python3-torch 1.13.1 is enough). No PyTorch is needed to run these tests.
 */
import { createImage } from '@coser/runtime';
import { describe, expect, it } from 'vitest';
import { resamplePlane } from '../lib/resample';
import { CLIP_MEAN, CLIP_STD, clipPixels } from './cognitive-encode';
import { colorFixSigned } from './color-fix';
import { COSER_CONTRACT } from './contract';
import { type FixtureF32, f32, fixture, maxDiff } from './fixtures/fixtures';
import { gaussianWeights } from './latent-tiles';
import { checkManifest } from './model-set';
import { createGaussianRng } from './rng';
import { respacedTimesteps, roundHalfEven } from './schedule';
import { bicubicSigned } from './tensors';
import { finishDecoded } from './vae-decode';

type F32 = FixtureF32;

describe('fix 1: torch bicubic (a = -0.75, torch edges), fixture resize.json', () => {
  const fx = fixture<{ image: F32; x4: F32; down: F32; clipStride: number; clipSampled: F32 }>('resize.json');
  const image = f32(fx.image); // 17 wide, 23 high, [-1, 1]

  it('matches F.interpolate(mode=bicubic) up x4 and down, to float32 rounding', () => {
    expect(maxDiff(resamplePlane(image, 17, 23, 68, 92, { filter: 'bicubic-torch' }), f32(fx.x4))).toBeLessThan(2e-6);
    expect(maxDiff(resamplePlane(image, 17, 23, 11, 7, { filter: 'bicubic-torch' }), f32(fx.down))).toBeLessThan(2e-6);
    // The PIL-style Keys a = -0.5 the VAE input used before differs visibly (what the fixture guards against).
    expect(maxDiff(resamplePlane(image, 17, 23, 68, 92, { filter: 'bicubic' }), f32(fx.x4))).toBeGreaterThan(0.01);
  });

  it("gives VAE Encode's input and Cognitive Encode's CLIP pixels as the reproduction makes them", () => {
    const unit = image.map((v) => (v + 1) / 2);
    const lr = createImage(17, 23, 3, Float32Array.from([...unit, ...unit, ...unit]));
    const x4 = f32(fx.x4).map((v) => Math.min(1, Math.max(-1, v)));
    expect(maxDiff(bicubicSigned(lr).data.subarray(0, 68 * 92), x4)).toBeLessThan(2e-6);
    // clip_transfrom runs on the pre-SR output as it is (the fixture's [-1, 1] values stand for it).
    const pixels = clipPixels(createImage(17, 23, 3, Float32Array.from([...image, ...image, ...image])));
    const sampled = f32(fx.clipSampled);
    const stride = fx.clipStride;
    const side = Math.ceil(224 / stride);
    for (let c = 0; c < 3; c++) {
      const got = Float32Array.from({ length: side * side }, (_, i) => {
        const y = Math.floor(i / side) * stride;
        const x = (i % side) * stride;
        return pixels.data[c * 224 * 224 + y * 224 + x]! * CLIP_STD[c]! + CLIP_MEAN[c]!;
      });
      expect(maxDiff(got, sampled)).toBeLessThan(5e-6);
    }
  });
});

describe('fix 2: latent tile weights, fixture tile-weights.json', () => {
  const fx = fixture<{ cases: { width: number; height: number; weights: F32 }[] }>('tile-weights.json');

  it.each(fx.cases.map((c) => [`${c.width}x${c.height}`, c] as const))('%s', (_, c) => {
    const want = f32(c.weights);
    const got = gaussianWeights(c.width, c.height);
    const peak = Math.max(...want);
    expect(maxDiff(got, want) / peak).toBeLessThan(1e-6);
  });
});

describe('fix 4: respacing, fixture timesteps.json', () => {
  const fx = fixture<{ timesteps: Record<string, number[]>; differFromRoundedProduct: number[] }>('timesteps.json');

  it('visits the timesteps of space_timesteps', () => {
    for (const [steps, want] of Object.entries(fx.timesteps)) expect(respacedTimesteps(Number(steps))).toEqual(want);
    expect(respacedTimesteps(21)[10]).toBe(499);
  });

  it('departs from round(k * 999 / (S - 1)) for exactly the step counts the reproduction does', () => {
    const differ: number[] = [];
    for (let s = 2; s <= 1000; s++) {
      const ts = respacedTimesteps(s);
      if (ts.some((t, k) => t !== roundHalfEven((k * 999) / (s - 1)))) differ.push(s);
    }
    expect(differ).toEqual(fx.differFromRoundedProduct);
    expect(differ).toHaveLength(283);
  });
});

describe('fix 5: colour fix before the clamp, fixture color-fix.json', () => {
  const fx = fixture<{ content: F32; style: F32; adain: F32; wavelet: F32; adainImage: F32 }>('color-fix.json');
  const image = (a: F32) => createImage(a.shape[2]!, a.shape[1]!, 3, f32(a));

  it('AdaIN and wavelet match the reproduction in [-1, 1], and the clamp comes after', () => {
    const content = image(fx.content);
    const style = image(fx.style);
    expect(maxDiff(colorFixSigned(content, style, 'adain').data, f32(fx.adain))).toBeLessThan(2e-6);
    expect(maxDiff(colorFixSigned(content, style, 'wavelet').data, f32(fx.wavelet))).toBeLessThan(2e-6);
    expect(maxDiff(finishDecoded(content, style, 'adain').data, f32(fx.adainImage))).toBeLessThan(2e-6);
    // Clamping first, as the studio did, gives something else for a decoder output outside [-1, 1].
    const clampedFirst = createImage(
      content.width,
      content.height,
      3,
      content.data.map((v) => Math.min(1, Math.max(-1, v))),
    );
    expect(maxDiff(finishDecoded(clampedFirst, style, 'adain').data, f32(fx.adainImage))).toBeGreaterThan(1e-3);
  });
});

describe('noise stream mirror, fixture rng.json', () => {
  it("tools/coser-export's Python stream is rng.ts's (the chain fixture depends on it)", () => {
    const fx = fixture<{ seed: number; first: F32 }>('rng.json');
    expect(createGaussianRng(fx.seed).fill(new Float32Array(7))).toEqual(f32(fx.first));
  });
});

describe('fix 7: fixed contract dims must be fixed in the manifest, fixture vae-encoder-shapes.json', () => {
  type Io = { name: string; dtype: string; shape: (number | string)[] };
  const fx = fixture<{ chunk: { outputs: Io[] }; tool: { outputs: Io[] } }>('vae-encoder-shapes.json');
  /** A manifest that fits the contract (symbolic dims as the contract names them, C = 8). */
  const manifest = (encoderOutputs: Io[]) => {
    const files: Record<string, unknown> = {};
    const dims = (shape: readonly (number | string)[]) => shape.map((d) => (d === 'C' ? 8 : d === '*' ? 16 : d));
    for (const spec of COSER_CONTRACT) {
      const sha256 = '0'.repeat(64);
      files[spec.file] =
        spec.kind === 'tensor'
          ? { kind: 'tensor', sha256, dtype: 'float32', shape: dims(spec.shape) }
          : {
              kind: 'onnx',
              sha256,
              inputs: spec.inputs.map((t) => ({ ...t, shape: dims(t.shape) })),
              outputs: spec.outputs.map((t) => ({ ...t, shape: dims(t.shape) })),
            };
    }
    (files['vae_encoder.onnx'] as { outputs: Io[] }).outputs = encoderOutputs;
    return { format: 'coser-model-set', version: 1, name: 't', tokenWidth: 8, files };
  };

  it("refuses torch.chunk's symbolic latent channels and accepts the export tool's fixed 4", () => {
    expect(fx.chunk.outputs[0]!.shape[1]).toBeTypeOf('string');
    const refused = checkManifest(manifest(fx.chunk.outputs)).diagnostics;
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ code: 'MODEL_SET_INVALID' });
    expect(refused[0]!.message).toContain("vae_encoder.onnx output 'latent'");
    expect(refused[0]!.message).toContain('symbolic');
    expect(checkManifest(manifest(fx.tool.outputs)).diagnostics).toEqual([]);
  });
});
