/**
 * Fixes 4 and 6 end to end: Generate Reference then All-in-Attention Sample, replayed against the reproduction's
 * own sampling (packages/nodes/src/coser/fixtures/chain.json). The fixture is scripts/inference.py:300-322 run by
 * tools/coser-export/make_fixtures.py on the export tool's tiny random modules, 4 steps, with the noise taken from
 * the studio's seeded stream (a Python mirror of rng.ts, checked in fidelity.test.ts) instead of torch's: one
 * stream for x_T, the reference chain and the restoration, as the reproduction draws it. Every network call was
 * recorded; here each session replays its recorded output after checking that the studio fed it the same x, t,
 * context and hint. So the test needs no model and no PyTorch; regenerate the fixture with
 *   PYTHONPATH=OPEN_CLIP_2_20_SRC python3 tools/coser-export/make_fixtures.py --repo REPRO_DIR --only chain
 */
import type { Host, InferenceBackend, InferenceSession, ModelSetRef, Tensor } from '@coser/runtime';
import { float32Tensor } from '@coser/runtime';
import { describe, expect, it } from 'vitest';
import { aiaSample } from '../packages/nodes/src/coser/aia-sample';
import { COSER_CONTRACT, type ContractOnnxFile } from '../packages/nodes/src/coser/contract';
import { type FixtureF32, f32, fixture, maxDiff } from '../packages/nodes/src/coser/fixtures/fixtures';
import { generateReference } from '../packages/nodes/src/coser/generate-reference';
import { testContext } from './coser-fixtures';

type F32 = FixtureF32;
interface UnetCall {
  readonly t: number;
  readonly x: F32;
  readonly cond: boolean;
  readonly eps: F32;
}
interface Chain {
  steps: number;
  seed: number;
  guidance: number;
  timesteps: number[];
  zLr: F32;
  positive: F32;
  negative: F32;
  cognitive: F32;
  referenceCalls: UnetCall[];
  restoreUnetCalls: UnetCall[];
  restoreControlnetCalls: { t: number; x: F32; hint: 'lr' | 'reference' }[];
  reference: F32;
  restored: F32;
}

const chain = fixture<Chain>('chain.json');
const tokens = (a: F32) => float32Tensor([1, ...a.shape], f32(a));
const zLr = float32Tensor([1, ...chain.zLr.shape], f32(chain.zLr));
const positive = tokens(chain.positive);
const negative = tokens(chain.negative);
const cognitive = tokens(chain.cognitive);
const width = positive.dims[2]!;
const conditional = Float32Array.from([...positive.data, ...cognitive.data]);

/** The worst input difference seen per kind, reported by the test. */
const seen = { x: 0, hint: 0 };
let studioReference: Float32Array | undefined;

function spec(file: string): ContractOnnxFile {
  return COSER_CONTRACT.find((f) => f.file === file) as ContractOnnxFile;
}

function checkContext(context: Tensor, cond: boolean): void {
  expect(context.dims).toEqual([1, cond ? 127 : 77, width]);
  expect(context.data).toEqual(cond ? conditional : negative.data);
}

function unetReplay(file: string, calls: UnetCall[], maps: boolean): InferenceSession {
  let next = 0;
  return {
    key: file,
    inputs: spec(file).inputs.map((t) => ({ name: t.name, dtype: t.dtype })),
    outputs: [{ name: 'eps', dtype: 'float32' }],
    async run(feeds) {
      const call = calls[next++]!;
      expect(Number((feeds['t']!.data as BigInt64Array)[0])).toBe(call.t);
      seen.x = Math.max(seen.x, maxDiff(feeds['x']!.data as Float32Array, f32(call.x)));
      checkContext(feeds['context']!, call.cond);
      if (maps) {
        // The maps of this step's two ControlNet runs: hint z_lr for lr_i, hint z_ref for ref_i (markers below).
        const step = Math.floor((next - 1) / 2);
        for (let i = 0; i < 10; i++) {
          expect((feeds[`lr_${i}`]!.data as Float32Array)[0]).toBe(Math.fround(2 * step + i / 100));
          expect((feeds[`ref_${i}`]!.data as Float32Array)[0]).toBe(Math.fround(2 * step + 1 + i / 100));
        }
      }
      return { eps: float32Tensor([1, 4, 8, 8], f32(call.eps)) };
    },
  };
}

function controlnetReplay(): InferenceSession {
  let next = 0;
  const calls = chain.restoreControlnetCalls;
  return {
    key: 'controlnet.onnx',
    inputs: spec('controlnet.onnx').inputs.map((t) => ({ name: t.name, dtype: t.dtype })),
    outputs: spec('controlnet.onnx').outputs.map((t) => ({ name: t.name, dtype: t.dtype })),
    async run(feeds) {
      const index = next++;
      const call = calls[index]!;
      expect(Number((feeds['t']!.data as BigInt64Array)[0])).toBe(call.t);
      seen.x = Math.max(seen.x, maxDiff(feeds['x']!.data as Float32Array, f32(call.x)));
      checkContext(feeds['context']!, true);
      const hint = feeds['hint']!.data as Float32Array;
      const want = call.hint === 'lr' ? zLr.data : studioReference!;
      seen.hint = Math.max(seen.hint, maxDiff(hint, want));
      // Markers instead of feature maps: the UNet replay checks it got this call's maps in the right slots.
      const out: Record<string, Tensor> = {};
      for (let i = 0; i < 10; i++) out[`ctrl_${i}`] = float32Tensor([1, 1, 1, 1], Float32Array.of(index + i / 100));
      return out;
    },
  };
}

function replayEnvironment() {
  const sessions: Record<string, () => InferenceSession> = {
    'unet_gen.onnx': () => unetReplay('unet_gen.onnx', chain.referenceCalls, false),
    'unet_aia.onnx': () => unetReplay('unet_aia.onnx', chain.restoreUnetCalls, true),
    'controlnet.onnx': controlnetReplay,
  };
  const backend: InferenceBackend = {
    name: 'replay',
    async load(source) {
      return sessions[source.key]!();
    },
    async release() {},
    async releaseAll() {},
  };
  const host = {
    async resolveModelFile(_set: string, file: string) {
      return { source: { key: file, name: file } };
    },
  } as unknown as Host;
  const files: Record<string, unknown> = {};
  for (const file of ['unet_gen.onnx', 'unet_aia.onnx', 'controlnet.onnx']) {
    files[file] = { kind: 'onnx', sha256: '0'.repeat(64), inputs: [], outputs: [] };
  }
  const set: ModelSetRef = {
    name: 'replay',
    manifest: { format: 'coser-model-set', version: 1, name: 'replay', tokenWidth: width, files },
  };
  return { ctx: testContext(host, backend).ctx, set };
}

describe("reference + restoration replayed against the reproduction's sample(), fixture chain.json", () => {
  it('feeds every network what the reproduction fed it and reaches its latents', async () => {
    const { ctx, set } = replayEnvironment();
    const sampling = {
      steps: chain.steps,
      sampler: 'ddpm' as const,
      guidance: chain.guidance,
      seed: chain.seed,
      previewEvery: 0,
    };
    const inputs = { set, latent: zLr, positive, negative, cognitive };
    const { reference } = await generateReference.execute(inputs, sampling, ctx);
    studioReference = reference.data;
    const referenceDiff = maxDiff(reference.data, f32(chain.reference));
    const { latent } = await aiaSample.execute(
      { ...inputs, reference },
      { ...sampling, tiled: false, tileSize: 64, tileOverlap: 32 },
      ctx,
    );
    const restoredDiff = maxDiff(latent.data, f32(chain.restored));
    console.info(
      `chain.json: max |x - x_repro| ${seen.x.toExponential(2)}, hint ${seen.hint.toExponential(2)}, ` +
        `reference ${referenceDiff.toExponential(2)}, restored ${restoredDiff.toExponential(2)}`,
    );
    expect(seen.x).toBeLessThan(1e-4);
    expect(seen.hint).toBeLessThan(1e-4);
    expect(referenceDiff).toBeLessThan(1e-4);
    expect(restoredDiff).toBeLessThan(1e-4);
  });
});
