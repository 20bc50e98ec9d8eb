import { OnnxGraphBuilder, type OnnxNodeOptions } from '../../onnx/builder';
import type { GaussianRng } from '../rng';

/**
 * A thin layer vocabulary over OnnxGraphBuilder for the contract models: convolutions, token attention, time
 * embeddings, resizing. Weights are seeded Gaussian with 1/sqrt(fan-in) scale so activations stay O(1).
 */
export class Net {
  readonly b: OnnxGraphBuilder;
  private readonly rng: GaussianRng;

  constructor(name: string, rng: GaussianRng) {
    this.b = new OnnxGraphBuilder(name, { opset: 17, docString: 'CoSeR contract model (random weights, for tests)' });
    this.rng = rng;
  }

  weights(hint: string, dims: readonly number[], scale: number): string {
    const size = dims.reduce((a, c) => a * c, 1);
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = this.rng.normal() * scale;
    return this.b.initializer(hint, 'float32', dims, data);
  }

  constF(hint: string, dims: readonly number[], values: readonly number[]): string {
    return this.b.initializer(hint, 'float32', dims, Float32Array.from(values));
  }

  constI(hint: string, values: readonly number[]): string {
    return this.b.initializer(
      hint,
      'int64',
      [values.length],
      BigInt64Array.from(values, (v) => BigInt(v)),
    );
  }

  op(type: string, inputs: readonly string[], attributes?: OnnxNodeOptions['attributes'], out?: string): string {
    return this.b.node(type, inputs, { ...(attributes ? { attributes } : {}), ...(out ? { outputs: [out] } : {}) })[0]!;
  }

  /** k x k convolution with bias: "same" padding, or non-overlapping patches when stride = k. */
  conv(
    x: string,
    cin: number,
    cout: number,
    k: number,
    options: { stride?: number; gain?: number; out?: string } = {},
  ): string {
    const stride = options.stride ?? 1;
    const w = this.weights('conv.w', [cout, cin, k, k], (options.gain ?? 1) / Math.sqrt(cin * k * k));
    const bias = this.weights('conv.b', [cout], 0.05);
    const pad = stride === k ? 0 : k >> 1;
    return this.op(
      'Conv',
      [x, w, bias],
      { kernel_shape: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad] },
      options.out,
    );
  }

  relu(x: string): string {
    return this.op('Relu', [x]);
  }

  add(a: string, b: string, out?: string): string {
    return this.op('Add', [a, b], undefined, out);
  }

  mul(a: string, b: string, out?: string): string {
    return this.op('Mul', [a, b], undefined, out);
  }

  /** [1, c, h, w] -> [1, h*w, c]. */
  tokens(map: string, channels: number): string {
    const flat = this.op('Reshape', [map, this.constI('shape', [0, channels, -1])]);
    return this.op('Transpose', [flat], { perm: [0, 2, 1] });
  }

  /** [1, n, c] back to the shape of `like` ([1, c, h, w]). */
  untokens(tokens: string, like: string): string {
    const t = this.op('Transpose', [tokens], { perm: [0, 2, 1] });
    return this.op('Reshape', [t, this.op('Shape', [like])]);
  }

  /** [.., n, cin] x [cin, cout]. */
  linear(x: string, cin: number, cout: number, gain = 1): string {
    return this.op('MatMul', [x, this.weights('lin.w', [cin, cout], gain / Math.sqrt(cin))]);
  }

  /** Scaled dot-product attention of queries [1, n, dq] over keys/values [1, m, dk]; returns [1, n, dOut]. */
  attention(q: string, kv: string, dq: number, dk: number, d: number, dOut: number): string {
    const Q = this.linear(q, dq, d);
    const K = this.linear(kv, dk, d);
    const V = this.linear(kv, dk, d);
    const kt = this.op('Transpose', [K], { perm: [0, 2, 1] });
    const scores = this.mul(this.op('MatMul', [Q, kt]), this.constF('scale', [], [1 / Math.sqrt(d)]));
    const probs = this.op('Softmax', [scores], { axis: -1 });
    return this.linear(this.op('MatMul', [probs, V]), d, dOut);
  }

  /**
   * Hard (argmax) attention as the All-in-Attention reference branch: every query token takes the value of its
   * best-matching key token, scaled by that best score. Exercises ArgMax + GatherElements like the real export.
   */
  hardAttention(q: string, kv: string, d: number): string {
    const kt = this.op('Transpose', [kv], { perm: [0, 2, 1] });
    const scores = this.mul(this.op('MatMul', [q, kt]), this.constF('scale', [], [1 / Math.sqrt(d)]));
    const index = this.op('ArgMax', [scores], { axis: 2, keepdims: 1 });
    const best = this.op('ReduceMax', [scores], { axes: [2], keepdims: 1 });
    const expanded = this.op('Expand', [index, this.op('Shape', [q])]);
    const picked = this.op('GatherElements', [kv, expanded], { axis: 1 });
    return this.mul(picked, best);
  }

  /** Sinusoidal embedding of an int64 [1] timestep projected to [1, ch, 1, 1]. */
  timeEmbedding(t: string, ch: number, dim = 16): string {
    const half = dim / 2;
    const freqs = Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half));
    const tf = this.op('Cast', [t], { to: 1 });
    const args = this.mul(tf, this.constF('freqs', [half], freqs));
    const emb = this.op('Concat', [this.op('Sin', [args]), this.op('Cos', [args])], { axis: 0 });
    const row = this.op('Reshape', [emb, this.constI('shape', [1, dim])]);
    const proj = this.linear(row, dim, ch);
    return this.op('Reshape', [proj, this.constI('shape', [1, ch, 1, 1])]);
  }

  /** Nearest (or bilinear) upscale of a NCHW map by an integer factor. */
  upscale(x: string, factor: number, mode: 'nearest' | 'linear' = 'nearest'): string {
    if (factor === 1) return x;
    const scales = this.constF('scales', [4], [1, 1, factor, factor]);
    return this.op('Resize', [x, '', scales], {
      mode,
      ...(mode === 'nearest' ? { nearest_mode: 'floor', coordinate_transformation_mode: 'asymmetric' } : {}),
    });
  }

  /** Average-pools a NCHW map by an integer factor. */
  pool(x: string, factor: number): string {
    if (factor === 1) return x;
    return this.op('AveragePool', [x], { kernel_shape: [factor, factor], strides: [factor, factor] });
  }
}
