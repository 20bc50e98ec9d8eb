import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { attr, OnnxGraphBuilder } from './builder';

/** Deterministic pseudo-random values so failures reproduce. */
function seeded(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

/** Direct NCHW convolution, batch 1, zero padding `pad`, stride 1. */
function conv(
  x: Float32Array,
  c: number,
  h: number,
  w: number,
  weight: Float32Array,
  bias: Float32Array,
  o: number,
  k: number,
  pad: number,
): Float32Array {
  const out = new Float32Array(o * h * w);
  for (let oc = 0; oc < o; oc++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        let acc = bias[oc]!;
        for (let ic = 0; ic < c; ic++)
          for (let ky = 0; ky < k; ky++)
            for (let kx = 0; kx < k; kx++) {
              const iy = y + ky - pad;
              const ix = xx + kx - pad;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              acc += x[(ic * h + iy) * w + ix]! * weight[((oc * c + ic) * k + ky) * k + kx]!;
            }
        out[(oc * h + y) * w + xx] = acc;
      }
  return out;
}

describe('OnnxGraphBuilder', () => {
  it('writes a Conv+Relu+Add model that onnxruntime runs with dynamic H/W', async () => {
    const b = new OnnxGraphBuilder('conv-relu-add', { opset: 17, metadata: { purpose: 'test' } });
    b.input('x', 'float32', [1, 3, 'height', 'width']);
    const weight = seeded(3 * 3 * 3 * 3, 1);
    const bias = seeded(3, 2);
    const w = b.initializer('conv.weight', 'float32', [3, 3, 3, 3], weight);
    const bb = b.initializer('conv.bias', 'float32', [3], bias);
    const [y] = b.node('Conv', ['x', w, bb], { attributes: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] } });
    const [r] = b.node('Relu', [y!]);
    const [a] = b.node('LeakyRelu', [r!], { attributes: { alpha: attr.float(0.5) } });
    b.node('Add', [a!, 'x'], { outputs: ['out'] });
    b.output('out', 'float32', [1, 3, 'height', 'width']);
    const session = await ort.InferenceSession.create(b.toBytes());
    for (const [h, wd] of [
      [5, 7],
      [9, 4],
    ] as const) {
      const x = seeded(3 * h * wd, h * 31 + wd);
      const result = await session.run({ x: new ort.Tensor('float32', x, [1, 3, h, wd]) });
      const out = result['out']!;
      expect(out.dims).toEqual([1, 3, h, wd]);
      const expected = conv(x, 3, h, wd, weight, bias, 3, 3, 1).map((v, i) => Math.max(0, v) + x[i]!);
      const got = out.data as Float32Array;
      let maxDiff = 0;
      for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - expected[i]!));
      expect(maxDiff).toBeLessThan(1e-5);
    }
    await session.release();
  });

  it('stores int64 initializers, tensor attributes and names unique values', async () => {
    const b = new OnnxGraphBuilder('reshape');
    b.input('x', 'float32', [2, 6]);
    const shape = b.initializer('shape', 'int64', [2], BigInt64Array.from([3n, 4n]));
    const shape2 = b.initializer('shape', 'int64', [2], BigInt64Array.from([4n, 3n]));
    expect(shape2).not.toBe(shape);
    const [c] = b.node('Constant', [], { attributes: { value: attr.tensor('float32', [1], Float32Array.of(2)) } });
    const [m] = b.node('Mul', ['x', c!]);
    const [r] = b.node('Reshape', [m!, shape]);
    b.node('Reshape', [r!, shape2], { outputs: ['y'] });
    b.output('y', 'float32', [4, 3]);
    const session = await ort.InferenceSession.create(b.toBytes());
    const x = Float32Array.from({ length: 12 }, (_, i) => i);
    const y = (await session.run({ x: new ort.Tensor('float32', x, [2, 6]) }))['y']!;
    expect(y.dims).toEqual([4, 3]);
    expect(Array.from(y.data as Float32Array)).toEqual(Array.from(x, (v) => v * 2));
    await session.release();
  });

  it('rejects data that does not match the declared dims or dtype', () => {
    const b = new OnnxGraphBuilder('bad');
    expect(() => b.initializer('w', 'float32', [2, 2], new Float32Array(3))).toThrow(RangeError);
    expect(() => b.initializer('w', 'int64', [1], new Float32Array(1))).toThrow(TypeError);
    b.input('x', 'float32', [1]);
    expect(() => b.input('x', 'float32', [1])).toThrow(/already used/);
  });
});
