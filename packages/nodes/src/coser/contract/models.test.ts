import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { COSER_CONTRACT } from '../contract';
import { checkManifest, MODEL_SET_FORMAT } from '../model-set';
import { createGaussianRng } from '../rng';
import { buildContractModels } from './models';

const files = buildContractModels({ channels: 8, tokens: 16, seed: 3 });

/** Concrete dims for a latent of h x w (pixels 8h x 8w) and a context of L tokens. */
function concrete(shape: readonly (number | string)[], h: number, w: number, L: number): number[] {
  return shape.map((d) => {
    if (typeof d === 'number') return d;
    const m = /^(\d*)([hwHWL])(?:\/(\d+))?$/.exec(d);
    if (!m) throw new Error(`unexpected dim ${d}`);
    const base = { h, w, H: 8 * h, W: 8 * w, L }[m[2] as 'h' | 'w' | 'H' | 'W' | 'L'];
    return (base * (m[1] ? Number(m[1]) : 1)) / (m[3] ? Number(m[3]) : 1);
  });
}

function feedsFor(name: string, seed: number, h = 8, w = 16): Record<string, ort.Tensor> {
  const rng = createGaussianRng(seed);
  const file = files.get(name)!;
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of file.inputs!) {
    const dims = concrete(input.shape, h, w, 127);
    feeds[input.name] =
      input.dtype === 'int64'
        ? new ort.Tensor('int64', new BigInt64Array(dims.reduce((a, b) => a * b, 1)).fill(500n), dims)
        : new ort.Tensor('float32', rng.fill(new Float32Array(dims.reduce((a, b) => a * b, 1))), dims);
  }
  return feeds;
}

describe('contract models', () => {
  it('cover every required contract file with the exact names, dtypes and ranks', () => {
    const manifest = {
      format: MODEL_SET_FORMAT,
      version: 1,
      name: 'test',
      tokenWidth: 16,
      files: Object.fromEntries(
        [...files].map(([name, f]) => [
          name,
          f.kind === 'onnx'
            ? { kind: 'onnx', sha256: '0'.repeat(64), inputs: f.inputs, outputs: f.outputs }
            : { kind: 'tensor', sha256: '0'.repeat(64), dtype: 'float32', shape: f.shape },
        ]),
      ),
    };
    expect(checkManifest(manifest).diagnostics).toEqual([]);
    for (const spec of COSER_CONTRACT.filter((f) => !f.optional)) expect(files.has(spec.file), spec.file).toBe(true);
  });

  for (const [name, file] of files) {
    if (file.kind !== 'onnx') continue;
    it(`${name} runs with dynamic sizes, gives the declared shapes, and every input changes its outputs`, async () => {
      const session = await ort.InferenceSession.create(file.bytes, { intraOpNumThreads: 1 });
      expect([...session.inputNames].sort()).toEqual(file.inputs!.map((t) => t.name).sort());
      expect([...session.outputNames].sort()).toEqual(file.outputs!.map((t) => t.name).sort());
      const feeds = feedsFor(name, 1);
      const base = await session.run(feeds);
      for (const out of file.outputs!) {
        expect(base[out.name]!.dims, `${name} ${out.name}`).toEqual(concrete(out.shape, 8, 16, 127));
        expect((base[out.name]!.data as Float32Array).every(Number.isFinite)).toBe(true);
      }
      // Perturb one input at a time: some output must change (no input is ignored by the graph).
      for (const input of file.inputs!) {
        const changed = { ...feeds };
        const t = feeds[input.name]!;
        changed[input.name] =
          t.type === 'int64'
            ? new ort.Tensor('int64', new BigInt64Array(t.size).fill(20n), t.dims)
            : new ort.Tensor('float32', createGaussianRng(99).fill(new Float32Array(t.size)), t.dims);
        const result = await session.run(changed);
        const differs = file.outputs!.some((o) => {
          const a = base[o.name]!.data as Float32Array;
          const b = result[o.name]!.data as Float32Array;
          return a.some((v, i) => Math.abs(v - b[i]!) > 1e-6);
        });
        expect(differs, `${name}: output ignores input ${input.name}`).toBe(true);
      }
      await session.release();
    });
  }

  it('are reproducible per seed', () => {
    const again = buildContractModels({ channels: 8, tokens: 16, seed: 3 });
    const other = buildContractModels({ channels: 8, tokens: 16, seed: 4 });
    expect(again.get('unet_aia.onnx')!.bytes).toEqual(files.get('unet_aia.onnx')!.bytes);
    expect(other.get('unet_aia.onnx')!.bytes).not.toEqual(files.get('unet_aia.onnx')!.bytes);
  });
});
