/**
 * A small reference interpreter of the ncnn layers the converter supports, written from ncnn's layer semantics
 * (CHW blobs, vectors after global pooling, scatter-style deconvolution, etc.) independently of the ONNX
 * mapping. Tests run it beside the converted ONNX model; it is far too slow for real images. Browser-safe.
 */
import { array, incompatible, type NcnnLayer, type NcnnModel, scalar } from './ncnn-model';

/** A CHW blob; a vector (1-D ncnn blob) has h = w = 1 and `vector` set. */
export interface NcnnBlob {
  c: number;
  h: number;
  w: number;
  data: Float32Array;
  vector?: boolean;
}

/**
 * Runs the model on one CHW input and returns the blob named `output` (or `out0`, or the last one written).
 *
 * @example
 * const out = runNcnnReference(loadNcnnModel(param, bin), { c: 3, h: 8, w: 8, data });
 */
export function runNcnnReference(model: NcnnModel, input: NcnnBlob): NcnnBlob {
  const blobs = new Map<string, NcnnBlob>();
  let last: NcnnBlob = input;
  for (const layer of model.layers) {
    const ins = layer.inputs.map((n) => blobs.get(n)!);
    const outs = layer.type === 'Input' ? [input] : forward(layer, ins);
    layer.outputs.forEach((name, i) => {
      blobs.set(name, outs[i] ?? outs[0]!);
      last = outs[i] ?? outs[0]!;
    });
  }
  return blobs.get('output') ?? blobs.get('out0') ?? last;
}

function blob(c: number, h: number, w: number, vector = false): NcnnBlob {
  return { c, h, w, data: new Float32Array(c * h * w), ...(vector ? { vector } : {}) };
}

function forward(layer: NcnnLayer, ins: NcnnBlob[]): NcnnBlob[] {
  const p = (k: number, d: number) => scalar(layer, k, d);
  const x = ins[0]!;
  switch (layer.type) {
    case 'Split':
      return layer.outputs.map(() => x);
    case 'Convolution':
      return [activate(layer, convolution(layer, x))];
    case 'Deconvolution':
      return [activate(layer, deconvolution(layer, x))];
    case 'InnerProduct': {
      const out = p(0, 0);
      const weight = layer.weights.get('weight')!;
      const bias = layer.weights.get('bias');
      const n = x.data.length;
      const y = blob(out, 1, 1, true);
      for (let o = 0; o < out; o++) {
        let acc = bias ? bias[o]! : 0;
        for (let i = 0; i < n; i++) acc += weight[o * n + i]! * x.data[i]!;
        y.data[o] = acc;
      }
      return [activate(layer, y)];
    }
    case 'Pooling': {
      const y = blob(x.c, 1, 1, true);
      const size = x.h * x.w;
      for (let c = 0; c < x.c; c++) {
        const plane = x.data.subarray(c * size, (c + 1) * size);
        y.data[c] = p(0, 0) === 1 ? plane.reduce((a, b) => a + b, 0) / size : plane.reduce((a, b) => Math.max(a, b));
      }
      return [y];
    }
    case 'PReLU': {
      const slope = layer.weights.get('slope')!;
      const size = x.h * x.w;
      const y = {
        ...x,
        data: x.data.map((v, i) => (v > 0 ? v : v * slope[slope.length === 1 ? 0 : Math.floor(i / size)]!)),
      };
      return [y];
    }
    case 'ReLU':
      return [{ ...x, data: x.data.map((v) => (v > 0 ? v : v * p(0, 0))) }];
    case 'Sigmoid':
      return [{ ...x, data: x.data.map((v) => 1 / (1 + Math.exp(-v))) }];
    case 'PixelShuffle':
      return [pixelShuffle(x, p(0, 1), p(1, 0))];
    case 'Interp':
      return [interp(layer, x)];
    case 'BinaryOp':
      return [binary(layer, ins)];
    case 'Eltwise': {
      const coeffs = array(layer, 1);
      const type = p(0, 1);
      const y = { ...x, data: new Float32Array(x.data.length) };
      for (let i = 0; i < y.data.length; i++) {
        let acc = type === 0 ? 1 : type === 1 ? 0 : Number.NEGATIVE_INFINITY;
        ins.forEach((b, k) => {
          const v = b.data[i]!;
          acc = type === 0 ? acc * v : type === 1 ? acc + v * (coeffs[k] ?? 1) : Math.max(acc, v);
        });
        y.data[i] = acc;
      }
      return [y];
    }
    case 'Concat': {
      const y = blob(
        ins.reduce((a, b) => a + b.c, 0),
        x.h,
        x.w,
        x.vector,
      );
      let offset = 0;
      for (const b of ins) {
        y.data.set(b.data, offset);
        offset += b.data.length;
      }
      return [y];
    }
    case 'Crop':
      return [cropBlob(layer, x)];
    default:
      throw incompatible(`reference interpreter: no ${layer.type}`);
  }
}

function activate(layer: NcnnLayer, y: NcnnBlob): NcnnBlob {
  const type = scalar(layer, 9, 0);
  const args = array(layer, 10);
  const f =
    type === 1
      ? (v: number) => Math.max(0, v)
      : type === 2
        ? (v: number) => (v > 0 ? v : v * args[0]!)
        : type === 3
          ? (v: number) => Math.min(args[1]!, Math.max(args[0]!, v))
          : type === 4
            ? (v: number) => 1 / (1 + Math.exp(-v))
            : undefined;
  if (f) for (let i = 0; i < y.data.length; i++) y.data[i] = f(y.data[i]!);
  return y;
}

function convParams(layer: NcnnLayer) {
  const p = (k: number, d: number) => scalar(layer, k, d);
  const kw = p(1, 0);
  const kh = p(11, kw);
  const pl = p(4, 0);
  return {
    out: p(0, 0),
    kw,
    kh,
    dw: p(2, 1),
    dh: p(12, p(2, 1)),
    sw: p(3, 1),
    sh: p(13, p(3, 1)),
    pl,
    pt: p(14, pl),
    pr: p(15, pl),
    pb: p(16, p(14, pl)),
  };
}

function convolution(layer: NcnnLayer, x: NcnnBlob): NcnnBlob {
  const { out, kw, kh, dw, dh, sw, sh, pl, pt, pr, pb } = convParams(layer);
  const weight = layer.weights.get('weight')!;
  const bias = layer.weights.get('bias');
  const H = x.h + pt + pb;
  const W = x.w + pl + pr;
  const oh = Math.floor((H - (dh * (kh - 1) + 1)) / sh) + 1;
  const ow = Math.floor((W - (dw * (kw - 1) + 1)) / sw) + 1;
  const y = blob(out, oh, ow);
  for (let o = 0; o < out; o++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++) {
        let acc = bias ? bias[o]! : 0;
        for (let c = 0; c < x.c; c++)
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh + ky * dh - pt;
            if (iy < 0 || iy >= x.h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw + kx * dw - pl;
              if (ix < 0 || ix >= x.w) continue;
              acc += x.data[(c * x.h + iy) * x.w + ix]! * weight[((o * x.c + c) * kh + ky) * kw + kx]!;
            }
          }
        y.data[(o * oh + oy) * ow + ox] = acc;
      }
  return y;
}

/** ncnn's deconvolution: scatter every input pixel through the kernel, then cut the padding off. */
function deconvolution(layer: NcnnLayer, x: NcnnBlob): NcnnBlob {
  const { out, kw, kh, dw, dh, sw, sh, pl, pt, pr, pb } = convParams(layer);
  const weight = layer.weights.get('weight')!;
  const bias = layer.weights.get('bias');
  const fullH = (x.h - 1) * sh + dh * (kh - 1) + 1;
  const fullW = (x.w - 1) * sw + dw * (kw - 1) + 1;
  const full = blob(out, fullH, fullW);
  for (let o = 0; o < out; o++) {
    full.data.fill(bias ? bias[o]! : 0, o * fullH * fullW, (o + 1) * fullH * fullW);
    for (let c = 0; c < x.c; c++)
      for (let iy = 0; iy < x.h; iy++)
        for (let ix = 0; ix < x.w; ix++) {
          const v = x.data[(c * x.h + iy) * x.w + ix]!;
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++)
              full.data[(o * fullH + iy * sh + ky * dh) * fullW + ix * sw + kx * dw]! +=
                v * weight[((o * x.c + c) * kh + ky) * kw + kx]!;
        }
  }
  const oh = fullH - pt - pb;
  const ow = fullW - pl - pr;
  const y = blob(out, oh, ow);
  for (let o = 0; o < out; o++)
    for (let yy = 0; yy < oh; yy++)
      for (let xx = 0; xx < ow; xx++)
        y.data[(o * oh + yy) * ow + xx] = full.data[(o * fullH + yy + pt) * fullW + xx + pl]!;
  return y;
}

function pixelShuffle(x: NcnnBlob, r: number, mode: number): NcnnBlob {
  const oc = x.c / (r * r);
  const y = blob(oc, x.h * r, x.w * r);
  for (let c = 0; c < oc; c++)
    for (let i = 0; i < r; i++)
      for (let j = 0; j < r; j++) {
        // mode 0 (PyTorch): channel c*r*r + i*r + j; mode 1 (TensorFlow): (i*r + j)*oc + c.
        const src = mode === 1 ? (i * r + j) * oc + c : c * r * r + i * r + j;
        for (let h = 0; h < x.h; h++)
          for (let w = 0; w < x.w; w++)
            y.data[(c * y.h + h * r + i) * y.w + w * r + j] = x.data[(src * x.h + h) * x.w + w]!;
      }
  return y;
}

function interp(layer: NcnnLayer, x: NcnnBlob): NcnnBlob {
  const type = scalar(layer, 0, 0);
  const hs = scalar(layer, 1, 1);
  const ws = scalar(layer, 2, 1);
  const oh = Math.floor(x.h * hs);
  const ow = Math.floor(x.w * ws);
  const y = blob(x.c, oh, ow);
  if (type !== 1) throw incompatible('reference interpreter: only nearest Interp');
  for (let c = 0; c < x.c; c++)
    for (let yy = 0; yy < oh; yy++) {
      const sy = Math.min(x.h - 1, Math.floor(yy / hs));
      for (let xx = 0; xx < ow; xx++) {
        const sx = Math.min(x.w - 1, Math.floor(xx / ws));
        y.data[(c * oh + yy) * ow + xx] = x.data[(c * x.h + sy) * x.w + sx]!;
      }
    }
  return y;
}

function binary(layer: NcnnLayer, ins: NcnnBlob[]): NcnnBlob {
  const type = scalar(layer, 0, 0);
  const a = ins[0]!;
  const scalarB = scalar(layer, 1, 0) ? scalar(layer, 2, 0) : undefined;
  const b = ins[1];
  const ops: ((x: number, y: number) => number)[] = [
    (x, y) => x + y,
    (x, y) => x - y,
    (x, y) => x * y,
    (x, y) => x / y,
    Math.max,
    Math.min,
    (x, y) => x ** y,
    (x, y) => y - x,
    (x, y) => y / x,
  ];
  const f = ops[type]!;
  // ncnn broadcasts a vector over an image per channel.
  const big = scalarB !== undefined || !b || a.data.length >= b.data.length ? a : b;
  const small = big === a ? b : a;
  const size = big.h * big.w;
  const y = { ...big, data: new Float32Array(big.data.length) };
  for (let i = 0; i < y.data.length; i++) {
    const s = scalarB ?? (small!.vector ? small!.data[Math.floor(i / size)]! : small!.data[i]!);
    y.data[i] = big === a ? f(a.data[i]!, s) : f(s, b!.data[i]!);
  }
  return y;
}

function cropBlob(layer: NcnnLayer, x: NcnnBlob): NcnnBlob {
  const starts = array(layer, 9);
  const ends = array(layer, 10);
  const axes = array(layer, 11);
  const range = [
    [0, x.c],
    [0, x.h],
    [0, x.w],
  ] as [number, number][];
  starts.forEach((s, i) => {
    const a = axes[i] ?? i;
    const axis = a < 0 ? a + 3 : a;
    const dim = [x.c, x.h, x.w][axis]!;
    const e = ends[i]!;
    range[axis] = [s, e === -233 ? dim : e < 0 ? dim + e : e];
  });
  const [[c0, c1], [h0, h1], [w0, w1]] = range as [[number, number], [number, number], [number, number]];
  const y = blob(c1 - c0, h1 - h0, w1 - w0);
  for (let c = 0; c < y.c; c++)
    for (let h = 0; h < y.h; h++)
      for (let w = 0; w < y.w; w++) y.data[(c * y.h + h) * y.w + w] = x.data[((c + c0) * x.h + h + h0) * x.w + w + w0]!;
  return y;
}
