/**
 * TF.js layers-model (Keras functional config + weight shards) -> ONNX, NCHW with dynamic height and width.
 * Covers the layers UpscalerJS's ESRGAN models use (Conv2D, Activation, Concatenate, Add, UpSampling2D, and the
 * custom MultiplyBeta / PixelShuffleNx of esrgan-thick) plus a few plain Keras ones that map one-to-one.
 * Pure: it takes the parsed model.json and the weight bytes, so it runs anywhere (`tfjs-files.ts` reads folders).
 */
import { CoserError } from '@coser/runtime';
import { attr, OnnxGraphBuilder } from '../onnx/builder';

/** The parts of a TF.js `model.json` the converter reads. */
export interface TfjsModelJson {
  format?: string;
  modelTopology: unknown;
  weightsManifest: readonly TfjsWeightGroup[];
}

export interface TfjsWeightGroup {
  paths: readonly string[];
  weights: readonly TfjsWeightSpec[];
}

export interface TfjsWeightSpec {
  name: string;
  shape: readonly number[];
  dtype: string;
  quantization?: unknown;
}

export interface TfjsConvertOptions {
  /** Graph name stored in the ONNX file. */
  name: string;
  /** Extra metadata_props (source package, licence...). */
  metadata?: Record<string, string>;
}

export interface TfjsConvertResult {
  onnx: Uint8Array;
  /** Upscaling factor found in the graph (product of UpSampling2D / PixelShuffle factors). */
  scale: number;
  /** Layer counts by class, for reports. */
  layers: Record<string, number>;
  parameters: number;
}

interface KerasLayer {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
  inbound_nodes: unknown;
}

const INPUT_NAME = 'input';
const OUTPUT_NAME = 'output';

/**
 * Converts a layers-model. `weights` is the concatenation of every shard in manifest order; it must be consumed
 * to its last byte (a shorter or longer file means the manifest and the shards disagree: MODEL_CORRUPT).
 *
 * @example
 * const { onnx, scale } = convertTfjsLayersModel(modelJson, shardBytes, { name: 'esrgan-slim-x4' });
 */
export function convertTfjsLayersModel(
  model: TfjsModelJson,
  weights: Uint8Array,
  options: TfjsConvertOptions,
): TfjsConvertResult {
  const layers = readLayers(model.modelTopology);
  const tensors = readWeights(model.weightsManifest, weights);
  const b = new OnnxGraphBuilder(options.name, {
    opset: 17,
    docString: 'Converted from a TF.js layers-model by CoSeR Studio',
    metadata: options.metadata ?? {},
  });
  b.input(INPUT_NAME, 'float32', ['batch', 3, 'height', 'width']);
  const values = new Map<string, string>();
  const counts: Record<string, number> = {};
  let scale = 1;
  let parameters = 0;
  const used = new Set<string>();
  const weight = (layer: string, kind: string): { shape: readonly number[]; data: Float32Array } | undefined => {
    const key = `${layer}/${kind}`;
    const w = tensors.get(key);
    if (w) used.add(key);
    return w;
  };

  for (const layer of layers) {
    counts[layer.class_name] = (counts[layer.class_name] ?? 0) + 1;
    const inputs = inboundNames(layer).map((n) => {
      const v = values.get(n);
      if (!v) throw corrupt(`layer ${layer.name} reads ${n}, which no earlier layer produced`);
      return v;
    });
    const first = (): string => {
      if (inputs.length !== 1) throw corrupt(`layer ${layer.name} expects one input, has ${inputs.length}`);
      return inputs[0]!;
    };
    const c = layer.config;
    let out: string;
    switch (layer.class_name) {
      case 'InputLayer': {
        const shape = c['batch_input_shape'];
        if (Array.isArray(shape) && shape.length === 4 && shape[3] !== 3 && shape[3] !== null)
          throw incompatible(`input ${layer.name} has ${String(shape[3])} channels; only RGB models are supported`);
        out = INPUT_NAME;
        break;
      }
      case 'Conv2D': {
        const kernel = weight(layer.name, 'kernel');
        if (kernel?.shape.length !== 4) throw corrupt(`Conv2D ${layer.name} has no 4-d kernel`);
        const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
        const strides = pair(c['strides'], 1);
        const dilations = pair(c['dilation_rate'], 1);
        if ((c['groups'] ?? 1) !== 1) throw incompatible(`Conv2D ${layer.name} uses groups`);
        if (c['data_format'] && c['data_format'] !== 'channels_last')
          throw incompatible(`Conv2D ${layer.name} is ${String(c['data_format'])}`);
        const w = b.initializer(
          `${layer.name}.weight`,
          'float32',
          [cout, cin, kh, kw],
          hwioToOihw(kernel.data, kh, kw, cin, cout),
        );
        const convInputs = [first(), w];
        if (c['use_bias'] !== false) {
          const bias = weight(layer.name, 'bias');
          if (!bias) throw corrupt(`Conv2D ${layer.name} has no bias`);
          convInputs.push(b.initializer(`${layer.name}.bias`, 'float32', [cout], bias.data));
          parameters += bias.data.length;
        }
        parameters += kernel.data.length;
        const same = c['padding'] === 'same';
        const stride1 = strides[0] === 1 && strides[1] === 1;
        // TF's "same" pads (k_eff - 1) with the smaller half first; at stride 1 that is exact explicit padding.
        const pads = same && stride1 ? samePads(kh, kw, dilations) : [0, 0, 0, 0];
        [out] = b.node('Conv', convInputs, {
          name: layer.name,
          attributes: {
            kernel_shape: [kh, kw],
            strides,
            dilations,
            ...(same && !stride1 ? { auto_pad: 'SAME_UPPER' } : { pads }),
          },
        }) as [string];
        out = activation(b, out, c['activation'], layer.name);
        break;
      }
      case 'Activation':
        out = activation(b, first(), c['activation'], layer.name);
        break;
      case 'ReLU':
      case 'LeakyReLU': {
        const alpha =
          typeof c['alpha'] === 'number'
            ? c['alpha']
            : typeof c['negative_slope'] === 'number'
              ? c['negative_slope']
              : 0;
        out =
          alpha === 0
            ? b.node('Relu', [first()], { name: layer.name })[0]!
            : b.node('LeakyRelu', [first()], { name: layer.name, attributes: { alpha: attr.float(alpha) } })[0]!;
        break;
      }
      case 'Concatenate':
        [out] = b.node('Concat', inputs, {
          name: layer.name,
          attributes: { axis: nhwcAxisToNchw(c['axis'], layer.name) },
        }) as [string];
        break;
      case 'Add':
        if (inputs.length < 2) throw corrupt(`Add ${layer.name} has ${inputs.length} inputs`);
        [out] = b.node(inputs.length === 2 ? 'Add' : 'Sum', inputs, { name: layer.name }) as [string];
        break;
      case 'UpSampling2D': {
        const [sh, sw] = pair(c['size'], 2);
        if ((c['interpolation'] ?? 'nearest') !== 'nearest')
          throw incompatible(`UpSampling2D ${layer.name} uses ${String(c['interpolation'])} interpolation`);
        const scales = b.initializer(`${layer.name}.scales`, 'float32', [4], Float32Array.of(1, 1, sh, sw));
        [out] = b.node('Resize', [first(), '', scales], {
          name: layer.name,
          attributes: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' },
        }) as [string];
        scale *= sh;
        break;
      }
      case 'MultiplyBeta': {
        // UpscalerJS hard-codes beta = 0.2 in the layer class; the saved config repeats it.
        const value = typeof c['beta'] === 'number' ? c['beta'] : 0.2;
        const beta = b.initializer(`${layer.name}.beta`, 'float32', [], Float32Array.of(value));
        [out] = b.node('Mul', [first(), beta], { name: layer.name }) as [string];
        break;
      }
      default: {
        const shuffle = /^PixelShuffle(\d+)x$/.exec(layer.class_name);
        if (!shuffle) throw incompatible(`layer ${layer.name} of type ${layer.class_name} has no ONNX mapping here`);
        const factor = Number(shuffle[1]);
        // TF's NHWC depthToSpace orders channels as (block row, block col, channel): ONNX DepthToSpace DCR.
        [out] = b.node('DepthToSpace', [first()], {
          name: layer.name,
          attributes: { blocksize: factor, mode: 'DCR' },
        }) as [string];
        scale *= factor;
      }
    }
    values.set(layer.name, out);
  }

  const unused = [...tensors.keys()].filter((k) => !used.has(k));
  if (unused.length > 0) throw corrupt(`weights never used by a layer: ${unused.slice(0, 5).join(', ')}`);
  const outputLayer = outputLayerName(model.modelTopology);
  const last = values.get(outputLayer);
  if (!last) throw corrupt(`output layer ${outputLayer} was not built`);
  b.node('Identity', [last], { outputs: [OUTPUT_NAME] });
  b.output(OUTPUT_NAME, 'float32', ['batch', 3, 'out_height', 'out_width']);
  return { onnx: b.toBytes(), scale, layers: counts, parameters };
}

function activation(b: OnnxGraphBuilder, value: string, name: unknown, layer: string): string {
  switch (name ?? 'linear') {
    case 'linear':
      return value;
    case 'relu':
      return b.node('Relu', [value], { name: `${layer}_relu` })[0]!;
    case 'sigmoid':
      return b.node('Sigmoid', [value], { name: `${layer}_sigmoid` })[0]!;
    case 'tanh':
      return b.node('Tanh', [value], { name: `${layer}_tanh` })[0]!;
    default:
      throw incompatible(`layer ${layer} uses activation ${String(name)}, which has no ONNX mapping here`);
  }
}

function readLayers(topology: unknown): KerasLayer[] {
  const config = modelConfig(topology);
  const layers = config['layers'];
  if (!Array.isArray(layers)) throw corrupt('model.json has no layer list');
  return layers.map((l: unknown, i) => {
    if (!isRecord(l) || typeof l['class_name'] !== 'string' || !isRecord(l['config']))
      throw corrupt(`layer ${i} in model.json is malformed`);
    const name = typeof l['name'] === 'string' ? l['name'] : l['config']['name'];
    if (typeof name !== 'string') throw corrupt(`layer ${i} in model.json has no name`);
    return { class_name: l['class_name'], name, config: l['config'], inbound_nodes: l['inbound_nodes'] };
  });
}

function modelConfig(topology: unknown): Record<string, unknown> {
  const root = isRecord(topology) && isRecord(topology['model_config']) ? topology['model_config'] : topology;
  if (!isRecord(root) || !isRecord(root['config'])) throw corrupt('model.json has no model_config');
  if (root['class_name'] !== 'Functional' && root['class_name'] !== 'Model')
    throw incompatible(`model class ${String(root['class_name'])} is not a functional Keras model`);
  return root['config'];
}

function outputLayerName(topology: unknown): string {
  const outputs = modelConfig(topology)['output_layers'];
  if (!Array.isArray(outputs) || outputs.length !== 1 || !Array.isArray(outputs[0]))
    throw incompatible('the model must have exactly one output');
  return String(outputs[0][0]);
}

/** Keras 2 inbound format: [[ [layerName, nodeIndex, tensorIndex, kwargs], ... ]] (one call per layer). */
function inboundNames(layer: KerasLayer): string[] {
  const nodes = layer.inbound_nodes;
  if (!Array.isArray(nodes) || nodes.length === 0) return [];
  if (nodes.length > 1) throw incompatible(`layer ${layer.name} is shared (called ${nodes.length} times)`);
  const call = nodes[0];
  if (!Array.isArray(call)) throw corrupt(`layer ${layer.name} has malformed inbound nodes`);
  return call.map((entry) => {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string')
      throw corrupt(`layer ${layer.name} has a malformed input`);
    if (entry[1] !== 0 || entry[2] !== 0) throw incompatible(`layer ${layer.name} reads a shared layer's output`);
    return entry[0];
  });
}

/** Splits the shard bytes into named float32 tensors, keyed `layer/kind` (the last two path segments). */
function readWeights(
  manifest: readonly TfjsWeightGroup[],
  bytes: Uint8Array,
): Map<string, { shape: readonly number[]; data: Float32Array }> {
  const out = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  for (const group of manifest) {
    for (const spec of group.weights) {
      if (spec.quantization) throw incompatible(`weight ${spec.name} is quantised; only float32 weights are supported`);
      if (spec.dtype !== 'float32') throw incompatible(`weight ${spec.name} is ${spec.dtype}, not float32`);
      const count = spec.shape.reduce((a, b) => a * b, 1);
      if (offset + count * 4 > bytes.length)
        throw corrupt(`weight shards end at byte ${bytes.length}, before ${spec.name} (needs ${offset + count * 4})`);
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(offset + i * 4, true);
      offset += count * 4;
      const parts = spec.name.split('/');
      out.set(parts.slice(-2).join('/'), { shape: spec.shape, data });
    }
  }
  if (offset !== bytes.length)
    throw corrupt(`weight shards hold ${bytes.length} bytes, the manifest describes ${offset}`);
  return out;
}

function hwioToOihw(data: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++)
          out[((o * cin + i) * kh + y) * kw + x] = data[((y * kw + x) * cin + i) * cout + o]!;
  return out;
}

function samePads(kh: number, kw: number, dilations: readonly number[]): number[] {
  const th = (kh - 1) * (dilations[0] ?? 1);
  const tw = (kw - 1) * (dilations[1] ?? 1);
  return [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)];
}

function pair(value: unknown, fallback: number): [number, number] {
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number'))
    return [value[0] as number, value[1] as number];
  return [fallback, fallback];
}

function nhwcAxisToNchw(axis: unknown, layer: string): number {
  const a = typeof axis === 'number' ? axis : -1;
  const map: Record<number, number> = { [-1]: 1, 3: 1, 1: 2, 2: 3, [-3]: 2, [-2]: 3 };
  const mapped = map[a];
  if (mapped === undefined) throw incompatible(`Concatenate ${layer} joins along axis ${a}`);
  return mapped;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function corrupt(message: string): CoserError {
  return new CoserError('MODEL_CORRUPT', `TF.js model: ${message}`);
}

function incompatible(message: string): CoserError {
  return new CoserError('MODEL_INCOMPATIBLE', `TF.js model: ${message}`);
}
