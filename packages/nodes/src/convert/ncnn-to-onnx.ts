/**
 * ncnn -> ONNX for the layer types of Real-ESRGAN (animevideov3, x4plus-anime), Real-CUGAN (SE) and waifu2x
 * upconv_7. ncnn blobs are CHW (3-D) or vectors (1-D, after global pooling); in ONNX every blob is NCHW with
 * batch 1 and a vector is [1, C, 1, 1], so ncnn's channel-wise broadcasting becomes ONNX broadcasting.
 * Browser-safe and pure.
 */
import { attr, OnnxGraphBuilder } from '../onnx/builder';
import { array, corrupt, incompatible, loadNcnnModel, type NcnnLayer, scalar } from './ncnn-model';

export interface NcnnConvertOptions {
  name: string;
  metadata?: Record<string, string>;
  /** Add the input, cropped by `crop` on every side and nearest-upscaled by `scale`, to the output. */
  residual?: { crop: number; scale: number };
}

export interface NcnnConvertResult {
  onnx: Uint8Array;
  layers: Record<string, number>;
  /** .bin bytes read (always the whole file). */
  bytesRead: number;
}

const INPUT_NAME = 'input';
const OUTPUT_NAME = 'output';
const BIG = 2 ** 31 - 1;

interface Blob {
  value: string;
  rank: 1 | 3;
}

/**
 * Converts an ncnn model to ONNX with input `input` [1, 3, H, W] and output `output`.
 *
 * @example
 * const { onnx } = convertNcnnModel(paramText, binBytes, { name: 'realesr-animevideov3-x4' });
 */
export function convertNcnnModel(paramText: string, bin: Uint8Array, options: NcnnConvertOptions): NcnnConvertResult {
  const model = loadNcnnModel(paramText, bin);
  const b = new OnnxGraphBuilder(options.name, {
    opset: 17,
    docString: 'Converted from an ncnn model by CoSeR Studio',
    metadata: options.metadata ?? {},
  });
  b.input(INPUT_NAME, 'float32', [1, 3, 'height', 'width']);
  const blobs = new Map<string, Blob>();
  const counts: Record<string, number> = {};
  let last: Blob | undefined;
  let lastName = '';

  for (const layer of model.layers) {
    counts[layer.type] = (counts[layer.type] ?? 0) + 1;
    const ins = layer.inputs.map((n) => {
      const blob = blobs.get(n);
      if (!blob) throw corrupt(`layer ${layer.name} reads blob ${n} before any layer writes it`);
      return blob;
    });
    const outs = convertLayer(b, layer, ins);
    if (outs.length !== layer.outputs.length) throw corrupt(`layer ${layer.name} has ${layer.outputs.length} outputs`);
    layer.outputs.forEach((name, i) => {
      blobs.set(name, outs[i]!);
      last = outs[i]!;
      lastName = name;
    });
  }
  const outBlob = blobs.get('output') ?? blobs.get('out0') ?? last;
  if (outBlob?.rank !== 3) throw incompatible(`the last blob (${lastName}) is not an image`);
  let result = outBlob.value;
  if (options.residual) {
    const { crop: c, scale: s } = options.residual;
    const int64 = (hint: string, v: number[]) =>
      b.initializer(hint, 'int64', [v.length], BigInt64Array.from(v, BigInt));
    const [inner] = b.node(
      'Slice',
      [
        INPUT_NAME,
        int64('residual.starts', [c, c]),
        int64('residual.ends', [-c || BIG, -c || BIG]),
        int64('residual.axes', [2, 3]),
      ],
      { name: 'residual_crop' },
    );
    const scales = b.initializer('residual.scales', 'float32', [4], Float32Array.of(1, 1, s, s));
    const [up] = b.node('Resize', [inner!, '', scales], {
      name: 'residual_upscale',
      attributes: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' },
    });
    [result] = b.node('Add', [result, up!], { name: 'residual_add' }) as [string];
  }
  b.node('Identity', [result], { outputs: [OUTPUT_NAME] });
  b.output(OUTPUT_NAME, 'float32', [1, 3, 'out_height', 'out_width']);
  return { onnx: b.toBytes(), layers: counts, bytesRead: model.bytesRead };
}

function convertLayer(b: OnnxGraphBuilder, layer: NcnnLayer, ins: Blob[]): Blob[] {
  const p = (k: number, d: number) => scalar(layer, k, d);
  const one = (): Blob => {
    if (ins.length !== 1) throw corrupt(`${layer.type} ${layer.name} expects one input, has ${ins.length}`);
    return ins[0]!;
  };
  const node = (op: string, inputs: string[], attributes: Parameters<OnnxGraphBuilder['node']>[2] = {}) =>
    b.node(op, inputs, { name: layer.name, ...attributes })[0]!;
  const w = (role: string): Float32Array => {
    const data = layer.weights.get(role);
    if (!data) throw corrupt(`${layer.name} has no ${role}`);
    return data;
  };

  switch (layer.type) {
    case 'Input':
      return [{ value: INPUT_NAME, rank: 3 }];
    case 'Split':
      return layer.outputs.map(() => one());
    case 'Convolution':
    case 'ConvolutionDepthWise':
    case 'Deconvolution':
    case 'DeconvolutionDepthWise': {
      const x = one();
      if (x.rank !== 3) throw incompatible(`${layer.name} convolves a vector`);
      const out = p(0, 0);
      const kw = p(1, 0);
      const kh = p(11, kw);
      const group = layer.type.endsWith('DepthWise') ? p(7, 1) : 1;
      const weight = w('weight');
      const inPerGroup = weight.length / (out * kw * kh);
      if (!Number.isInteger(inPerGroup) || inPerGroup < 1)
        throw corrupt(`${layer.name} weight size does not fit its shape`);
      const padLeft = p(4, 0);
      const pads = [p(14, padLeft), padLeft, p(16, p(14, padLeft)), p(15, padLeft)];
      if (p(18, 0) !== 0 && layer.type.startsWith('Conv'))
        throw incompatible(`${layer.name} pads with a non-zero value`);
      const common = {
        kernel_shape: [kh, kw],
        strides: [p(13, p(3, 1)), p(3, 1)],
        dilations: [p(12, p(2, 1)), p(2, 1)],
        group,
      };
      const inputs = [x.value];
      let y: string;
      if (layer.type.startsWith('Conv')) {
        inputs.push(b.initializer(`${layer.name}.weight`, 'float32', [out, inPerGroup, kh, kw], weight));
        if (layer.weights.has('bias')) inputs.push(b.initializer(`${layer.name}.bias`, 'float32', [out], w('bias')));
        const auto = padLeft === -233 ? 'SAME_UPPER' : padLeft === -234 ? 'SAME_LOWER' : undefined;
        y = node('Conv', inputs, { attributes: { ...common, ...(auto ? { auto_pad: auto } : { pads }) } });
      } else {
        if (group !== 1) throw incompatible(`${layer.name}: grouped deconvolution is not supported`);
        if (p(20, 0) || p(21, 0)) throw incompatible(`${layer.name} fixes its output size`);
        // ncnn stores deconvolution weights [out][in][kh][kw]; ONNX ConvTranspose wants [in][out][kh][kw].
        const transposed = new Float32Array(weight.length);
        const k = kh * kw;
        for (let o = 0; o < out; o++)
          for (let i = 0; i < inPerGroup; i++)
            transposed.set(weight.subarray((o * inPerGroup + i) * k, (o * inPerGroup + i + 1) * k), (i * out + o) * k);
        inputs.push(b.initializer(`${layer.name}.weight`, 'float32', [inPerGroup, out, kh, kw], transposed));
        if (layer.weights.has('bias')) inputs.push(b.initializer(`${layer.name}.bias`, 'float32', [out], w('bias')));
        y = node('ConvTranspose', inputs, {
          attributes: { ...common, pads, output_padding: [p(19, p(18, 0)), p(18, 0)] },
        });
      }
      return [{ value: activation(b, layer, y), rank: 3 }];
    }
    case 'InnerProduct': {
      const x = one();
      if (x.rank !== 1) throw incompatible(`${layer.name}: InnerProduct on an image blob is not supported`);
      const out = p(0, 0);
      const weight = w('weight');
      const inputs = [
        x.value,
        b.initializer(`${layer.name}.weight`, 'float32', [out, weight.length / out, 1, 1], weight),
      ];
      if (layer.weights.has('bias')) inputs.push(b.initializer(`${layer.name}.bias`, 'float32', [out], w('bias')));
      // A vector is [1, C, 1, 1] here, so a fully connected layer is a 1x1 convolution.
      return [{ value: activation(b, layer, node('Conv', inputs, { attributes: { kernel_shape: [1, 1] } })), rank: 1 }];
    }
    case 'Pooling': {
      const x = one();
      if (p(4, 0) !== 1) throw incompatible(`${layer.name}: only global pooling is supported`);
      return [{ value: node(p(0, 0) === 1 ? 'GlobalAveragePool' : 'GlobalMaxPool', [x.value]), rank: 1 }];
    }
    case 'PReLU': {
      const x = one();
      const slope = w('slope');
      const shape = slope.length === 1 ? [1] : [slope.length, 1, 1];
      return [
        {
          value: node('PRelu', [x.value, b.initializer(`${layer.name}.slope`, 'float32', shape, slope)]),
          rank: x.rank,
        },
      ];
    }
    case 'ReLU': {
      const x = one();
      const slope = p(0, 0);
      const value =
        slope === 0
          ? node('Relu', [x.value])
          : node('LeakyRelu', [x.value], { attributes: { alpha: attr.float(slope) } });
      return [{ value, rank: x.rank }];
    }
    case 'Sigmoid':
      return [{ value: node('Sigmoid', [one().value]), rank: one().rank }];
    case 'Clip': {
      const x = one();
      const lo = b.initializer(`${layer.name}.min`, 'float32', [], Float32Array.of(p(0, -Number.MAX_VALUE)));
      const hi = b.initializer(`${layer.name}.max`, 'float32', [], Float32Array.of(p(1, Number.MAX_VALUE)));
      return [{ value: node('Clip', [x.value, lo, hi]), rank: x.rank }];
    }
    case 'PixelShuffle': {
      // ncnn mode 0 is PyTorch's pixel_shuffle (ONNX CRD); mode 1 is TensorFlow's depth_to_space (DCR).
      const mode = p(1, 0) === 1 ? 'DCR' : 'CRD';
      return [{ value: node('DepthToSpace', [one().value], { attributes: { blocksize: p(0, 1), mode } }), rank: 3 }];
    }
    case 'Interp':
      return [{ value: interp(b, layer, one()), rank: 3 }];
    case 'BinaryOp':
      return [binaryOp(b, layer, ins)];
    case 'Eltwise':
      return [eltwise(b, layer, ins)];
    case 'Concat': {
      const axis = p(0, 0);
      const rank = ins[0]?.rank ?? 3;
      const onnxAxis = (axis < 0 ? axis + rank : axis) + 1;
      return [
        {
          value: node(
            'Concat',
            ins.map((i) => i.value),
            { attributes: { axis: onnxAxis } },
          ),
          rank,
        },
      ];
    }
    case 'Crop':
      return [crop(b, layer, ins)];
    default:
      throw incompatible(`layer ${layer.name} of type ${layer.type} has no ONNX mapping here`);
  }
}

/** ncnn's fused activations (param 9, arguments in array param 10). */
function activation(b: OnnxGraphBuilder, layer: NcnnLayer, x: string): string {
  const type = scalar(layer, 9, 0);
  const args = array(layer, 10);
  const name = `${layer.name}_act`;
  switch (type) {
    case 0:
      return x;
    case 1:
      return b.node('Relu', [x], { name })[0]!;
    case 2:
      return b.node('LeakyRelu', [x], { name, attributes: { alpha: attr.float(args[0] ?? 0) } })[0]!;
    case 3: {
      const lo = b.initializer(`${name}.min`, 'float32', [], Float32Array.of(args[0] ?? 0));
      const hi = b.initializer(`${name}.max`, 'float32', [], Float32Array.of(args[1] ?? 0));
      return b.node('Clip', [x, lo, hi], { name })[0]!;
    }
    case 4:
      return b.node('Sigmoid', [x], { name })[0]!;
    default:
      throw incompatible(`${layer.name} uses fused activation ${type}`);
  }
}

function interp(b: OnnxGraphBuilder, layer: NcnnLayer, x: Blob): string {
  const type = scalar(layer, 0, 0);
  const hs = scalar(layer, 1, 1);
  const ws = scalar(layer, 2, 1);
  if (scalar(layer, 3, 0) || scalar(layer, 4, 0)) throw incompatible(`${layer.name} resizes to a fixed size`);
  if (scalar(layer, 6, 0)) throw incompatible(`${layer.name} uses align_corner`);
  const scales = b.initializer(`${layer.name}.scales`, 'float32', [4], Float32Array.of(1, 1, hs, ws));
  // ncnn: nearest picks floor(dst / scale); bilinear and bicubic use half-pixel centres, bicubic with A = -0.75.
  const attributes =
    type === 1
      ? { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }
      : type === 2
        ? { mode: 'linear', coordinate_transformation_mode: 'half_pixel' }
        : type === 3
          ? { mode: 'cubic', coordinate_transformation_mode: 'half_pixel', cubic_coeff_a: attr.float(-0.75) }
          : undefined;
  if (!attributes) throw incompatible(`${layer.name} uses resize type ${type}`);
  return b.node('Resize', [x.value, '', scales], { name: layer.name, attributes })[0]!;
}

const BINARY_OPS = ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Pow', 'Sub', 'Div'] as const;

function binaryOp(b: OnnxGraphBuilder, layer: NcnnLayer, ins: Blob[]): Blob {
  const type = scalar(layer, 0, 0);
  const op = BINARY_OPS[type];
  if (!op) throw incompatible(`${layer.name} uses binary op ${type}`);
  let a: Blob;
  let c: Blob;
  if (scalar(layer, 1, 0)) {
    a = ins[0]!;
    c = { value: b.initializer(`${layer.name}.b`, 'float32', [], Float32Array.of(scalar(layer, 2, 0))), rank: a.rank };
  } else {
    if (ins.length !== 2) throw corrupt(`${layer.name} needs two inputs`);
    [a, c] = [ins[0]!, ins[1]!];
  }
  // Types 7 and 8 are the reversed forms (b - a, b / a).
  const [x, y] = type >= 7 ? [c, a] : [a, c];
  return { value: b.node(op, [x.value, y.value], { name: layer.name })[0]!, rank: Math.max(a.rank, c.rank) as 1 | 3 };
}

function eltwise(b: OnnxGraphBuilder, layer: NcnnLayer, ins: Blob[]): Blob {
  const type = scalar(layer, 0, 1);
  const coeffs = array(layer, 1);
  let values = ins.map((i) => i.value);
  if (type === 1 && coeffs.length > 0) {
    values = values.map((v, i) => {
      const k = coeffs[i] ?? 1;
      if (k === 1) return v;
      const c = b.initializer(`${layer.name}.coeff${i}`, 'float32', [], Float32Array.of(k));
      return b.node('Mul', [v, c], { name: `${layer.name}_coeff${i}` })[0]!;
    });
  }
  const op = type === 0 ? 'Mul' : type === 1 ? 'Sum' : type === 2 ? 'Max' : undefined;
  if (!op) throw incompatible(`${layer.name} uses eltwise op ${type}`);
  const value =
    op === 'Mul'
      ? values.slice(1).reduce((acc, v, i) => b.node('Mul', [acc, v], { name: `${layer.name}_${i}` })[0]!, values[0]!)
      : b.node(op, values, { name: layer.name })[0]!;
  return { value, rank: 3 };
}

function crop(b: OnnxGraphBuilder, layer: NcnnLayer, ins: Blob[]): Blob {
  if (ins.length !== 1) throw incompatible(`${layer.name}: cropping to a reference blob is not supported`);
  const x = ins[0]!;
  let starts = array(layer, 9);
  let ends = array(layer, 10);
  let axes = array(layer, 11);
  if (starts.length === 0) {
    // Old-style offsets: w/h/c offset (0-2), size (3-5), and offsets from the far side (6-8).
    const spec = [
      [2, scalar(layer, 0, 0), scalar(layer, 3, 0), scalar(layer, 6, 0)],
      [1, scalar(layer, 1, 0), scalar(layer, 4, 0), scalar(layer, 7, 0)],
      [0, scalar(layer, 2, 0), scalar(layer, 5, 0), scalar(layer, 8, 0)],
    ] as const;
    starts = [];
    ends = [];
    axes = [];
    for (const [axis, offset, size, offset2] of spec) {
      if (offset === 0 && size === 0 && offset2 === 0) continue;
      axes.push(axis);
      starts.push(offset);
      ends.push(size > 0 ? offset + size : offset2 > 0 ? -offset2 : BIG);
    }
  }
  if (starts.length !== ends.length || (axes.length > 0 && axes.length !== starts.length))
    throw corrupt(`${layer.name} has mismatched crop lists`);
  if (axes.length === 0) axes = starts.map((_, i) => i);
  const onnxAxes = axes.map((a) => (a < 0 ? a + 3 : a) + 1);
  const int64 = (hint: string, v: number[]) =>
    b.initializer(
      `${layer.name}.${hint}`,
      'int64',
      [v.length],
      BigInt64Array.from(v, (n) => BigInt(n === -233 ? BIG : n)),
    );
  const value = b.node('Slice', [x.value, int64('starts', starts), int64('ends', ends), int64('axes', onnxAxes)], {
    name: layer.name,
  })[0]!;
  return { value, rank: x.rank };
}
