// Converted ONNX (onnxruntime-node) against the original UpscalerJS model run by TF.js, on a small input.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { readTfjsModel } from '../packages/nodes/src/convert/tfjs-files';
import { convertTfjsLayersModel } from '../packages/nodes/src/convert/tfjs-layers';
import { findPackageDir } from '../packages/nodes/src/models/package-source';

const SIZE = 24;

class MultiplyBeta extends tf.layers.Layer {
  static className = 'MultiplyBeta';
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.mul(Array.isArray(inputs) ? inputs[0]! : inputs, 0.2);
  }
}

function pixelShuffle(scale: number) {
  return class PixelShuffle extends tf.layers.Layer {
    static className = `PixelShuffle${scale}x`;
    override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape {
      const s = (Array.isArray(shape[0]) ? shape[0] : shape) as tf.Shape;
      return [s[0] ?? null, null, null, 3];
    }
    override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
      return tf.depthToSpace((Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor4D, scale, 'NHWC');
    }
  };
}

async function runTfjs(modelJsonPath: string, nhwc: Float32Array): Promise<Float32Array> {
  const { model, weights } = await readTfjsModel(modelJsonPath);
  const weightSpecs = model.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[];
  const layersModel = await tf.loadLayersModel({
    load: async () => ({
      modelTopology: model.modelTopology as object,
      weightSpecs,
      weightData: weights.slice().buffer,
    }),
  });
  const input = tf.tensor4d(nhwc, [1, SIZE, SIZE, 3]);
  const output = layersModel.predict(input) as tf.Tensor;
  const data = (await output.data()) as Float32Array;
  input.dispose();
  output.dispose();
  layersModel.dispose();
  return data;
}

async function runOnnx(modelJsonPath: string, nhwc: Float32Array): Promise<{ data: Float32Array; scale: number }> {
  const { model, weights } = await readTfjsModel(modelJsonPath);
  const { onnx, scale } = convertTfjsLayersModel(model, weights, { name: 'parity' });
  const session = await ort.InferenceSession.create(onnx);
  const nchw = new Float32Array(nhwc.length);
  for (let i = 0; i < SIZE * SIZE; i++) for (let c = 0; c < 3; c++) nchw[c * SIZE * SIZE + i] = nhwc[i * 3 + c]!;
  const out = (await session.run({ input: new ort.Tensor('float32', nchw, [1, 3, SIZE, SIZE]) }))['output']!;
  await session.release();
  const planar = out.data as Float32Array;
  const n = (SIZE * scale) ** 2;
  const nhwcOut = new Float32Array(planar.length);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) nhwcOut[i * 3 + c] = planar[c * n + i]!;
  return { data: nhwcOut, scale };
}

/** A smooth test pattern with edges, in the model's input range. */
function pattern(range: number): Float32Array {
  const out = new Float32Array(SIZE * SIZE * 3);
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++)
      for (let c = 0; c < 3; c++) {
        const v = 0.5 + 0.4 * Math.sin((x + 2 * c) / 3) * Math.cos(y / 4) + (x > 12 && y < 10 ? 0.1 : 0);
        out[(y * SIZE + x) * 3 + c] = v * range;
      }
  return out;
}

function cachedThick(scale: number): string | undefined {
  const dir = process.env['COSER_MODELS_DIR'] ?? join(process.cwd(), '.models');
  const p = join(
    dir,
    '.cache',
    'npm',
    '@upscalerjs',
    'esrgan-thick@1.0.0',
    'package',
    'models',
    `x${scale}`,
    'model.json',
  );
  return existsSync(p) ? p : undefined;
}

const require = createRequire(import.meta.url);
const installed = (pkg: string, scale: number) =>
  join(findPackageDir(pkg, dirname(require.resolve(pkg))), 'models', `x${scale}`, 'model.json');

describe('TF.js -> ONNX conversion matches TF.js', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    tf.serialization.registerClass(MultiplyBeta);
    for (const s of [2, 3, 4, 8]) tf.serialization.registerClass(pixelShuffle(s));
  });

  const cases: [string, () => string | undefined, number, number][] = [
    ['esrgan-slim x4', () => installed('@upscalerjs/esrgan-slim', 4), 4, 255],
    ['esrgan-slim x3', () => installed('@upscalerjs/esrgan-slim', 3), 3, 255],
    ['esrgan-medium x2', () => installed('@upscalerjs/esrgan-medium', 2), 2, 255],
    ['esrgan-medium x4', () => installed('@upscalerjs/esrgan-medium', 4), 4, 255],
    ['esrgan-thick x4 (when cached by `coser models add`)', () => cachedThick(4), 4, 1],
  ];
  for (const [label, locate, scale, range] of cases) {
    it(label, async (ctx) => {
      const path = locate();
      if (!path) return ctx.skip();
      const input = pattern(range);
      const expected = await runTfjs(path, input);
      const got = await runOnnx(path, input);
      expect(got.scale).toBe(scale);
      expect(got.data.length).toBe(expected.length);
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      let maxDiff = 0;
      for (let i = 0; i < expected.length; i++) {
        lo = Math.min(lo, expected[i]!);
        hi = Math.max(hi, expected[i]!);
        maxDiff = Math.max(maxDiff, Math.abs(expected[i]! - got.data[i]!));
      }
      // The output must be a real image, not a constant that would trivially match.
      expect(hi - lo).toBeGreaterThan(range * 0.2);
      expect(maxDiff).toBeLessThan(1e-3 * (hi - lo));
    });
  }
});
