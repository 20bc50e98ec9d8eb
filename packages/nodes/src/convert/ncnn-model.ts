/**
 * ncnn models: the .param text (layer list with typed key=value params) and the .bin weights, read in layer
 * order exactly as ncnn's ModelBin does. Weight blobs that ncnn loads with type 0 begin with a 4-byte tag
 * (0x01306B47 = fp16, zero = fp32, other non-zero = 8-bit quantised table); type-1 blobs (biases, slopes) are raw
 * fp32. The reader must end exactly at the file's last byte, which catches a wrong layer interpretation.
 * Browser-safe and pure.
 */
import { CoserError } from '@coser/runtime';

/** A param value: int/float scalar, or an array (keys written as -23300 - key). */
export type NcnnParamValue = number | number[];

export interface NcnnLayer {
  type: string;
  name: string;
  inputs: string[];
  outputs: string[];
  params: Map<number, NcnnParamValue>;
  /** Weight blobs by role (weight, bias, slope, mean, var, scale), in ncnn's load order. */
  weights: Map<string, Float32Array>;
}

export interface NcnnModel {
  layers: NcnnLayer[];
  /** Bytes of the .bin consumed (equals the file size after a successful load). */
  bytesRead: number;
}

const MAGIC = 7767517;
const TAG_FP16 = 0x01306b47;
const TAG_INT8 = 0x000d4b38;
const TAG_FP32_RAW = 0x0002c056;

/** Parses a .param file (text form). */
export function parseNcnnParam(text: string): NcnnLayer[] {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  if (Number(lines[0]) !== MAGIC) throw corrupt(`.param does not start with the magic number ${MAGIC}`);
  const counts = (lines[1] ?? '').split(/\s+/).map(Number);
  const layerCount = counts[0] ?? Number.NaN;
  if (!Number.isInteger(layerCount) || layerCount < 1 || layerCount > 100_000)
    throw corrupt('.param has no layer count');
  const layers: NcnnLayer[] = [];
  for (const line of lines.slice(2)) {
    if (line === '') continue;
    const parts = line.split(/\s+/);
    const [type, name, nin, nout] = parts;
    const inCount = Number(nin);
    const outCount = Number(nout);
    if (!type || !name || !Number.isInteger(inCount) || !Number.isInteger(outCount) || inCount < 0 || outCount < 0)
      throw corrupt(`malformed .param line: ${line.slice(0, 80)}`);
    const inputs = parts.slice(4, 4 + inCount);
    const outputs = parts.slice(4 + inCount, 4 + inCount + outCount);
    if (inputs.length !== inCount || outputs.length !== outCount) throw corrupt(`layer ${name} lists too few blobs`);
    const params = new Map<number, NcnnParamValue>();
    for (const kv of parts.slice(4 + inCount + outCount)) {
      const eq = kv.indexOf('=');
      const key = Number(kv.slice(0, eq));
      const raw = kv.slice(eq + 1);
      if (eq < 1 || !Number.isInteger(key)) throw corrupt(`layer ${name} has a malformed param ${kv}`);
      if (key <= -23300) {
        const values = raw.split(',').map(Number);
        const n = values[0]!;
        const list = values.slice(1);
        if (list.length !== n || list.some((v) => Number.isNaN(v)))
          throw corrupt(`layer ${name} param ${kv} is malformed`);
        params.set(-key - 23300, list);
      } else {
        const value = Number(raw);
        if (Number.isNaN(value)) throw corrupt(`layer ${name} param ${kv} is not a number`);
        params.set(key, value);
      }
    }
    layers.push({ type, name, inputs, outputs, params, weights: new Map() });
  }
  if (layers.length !== layerCount) throw corrupt(`.param declares ${layerCount} layers and lists ${layers.length}`);
  return layers;
}

/** Sequential reader over the .bin with ncnn's two load types. */
class BinReader {
  private pos = 0;
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get offset(): number {
    return this.pos;
  }
  private need(n: number, what: string): void {
    if (this.pos + n > this.bytes.length)
      throw corrupt(`.bin ends at byte ${this.bytes.length} while reading ${what} (needs ${this.pos + n})`);
  }
  /** ncnn type 1: raw little-endian fp32. */
  raw(count: number, what: string): Float32Array {
    this.need(count * 4, what);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.view.getFloat32(this.pos + i * 4, true);
    this.pos += count * 4;
    return out;
  }
  /** ncnn type 0: tagged (fp16 / fp32 / quantised table). */
  tagged(count: number, what: string): Float32Array {
    this.need(4, what);
    const tag = this.view.getUint32(this.pos, true);
    const flagSum =
      this.bytes[this.pos]! + this.bytes[this.pos + 1]! + this.bytes[this.pos + 2]! + this.bytes[this.pos + 3]!;
    this.pos += 4;
    if (tag === TAG_FP16) {
      const size = align4(count * 2);
      this.need(size, what);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(this.view.getUint16(this.pos + i * 2, true));
      this.pos += size;
      return out;
    }
    if (tag === TAG_INT8) throw incompatible(`${what} is int8-quantised; only fp16/fp32 ncnn models are supported`);
    if (tag === TAG_FP32_RAW || flagSum === 0) return this.raw(count, what);
    // Any other non-zero flag: a 256-entry float table followed by one byte index per value.
    const table = this.raw(256, `${what} (quantisation table)`);
    const size = align4(count);
    this.need(size, what);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = table[this.bytes[this.pos + i]!]!;
    this.pos += size;
    return out;
  }
}

/**
 * Loads a model: parses the .param and reads each layer's weights from the .bin in order. Throws MODEL_CORRUPT
 * when the .bin is shorter or longer than the layers need, MODEL_INCOMPATIBLE for unsupported weight formats.
 *
 * @example
 * const model = loadNcnnModel(paramText, binBytes); // model.bytesRead === binBytes.length
 */
export function loadNcnnModel(paramText: string, bin: Uint8Array): NcnnModel {
  const layers = parseNcnnParam(paramText);
  const r = new BinReader(bin);
  for (const layer of layers) {
    const p = (k: number, d: number) => scalar(layer, k, d);
    const what = (role: string) => `${layer.type} ${layer.name} ${role}`;
    switch (layer.type) {
      case 'Convolution':
      case 'ConvolutionDepthWise':
      case 'Deconvolution':
      case 'DeconvolutionDepthWise':
        if (p(8, 0) !== 0) throw incompatible(`${layer.name} is int8-quantised`);
        layer.weights.set('weight', r.tagged(p(6, 0), what('weight')));
        if (p(5, 0)) layer.weights.set('bias', r.raw(p(0, 0), what('bias')));
        break;
      case 'InnerProduct':
        if (p(8, 0) !== 0) throw incompatible(`${layer.name} is int8-quantised`);
        layer.weights.set('weight', r.tagged(p(2, 0), what('weight')));
        if (p(1, 0)) layer.weights.set('bias', r.raw(p(0, 0), what('bias')));
        break;
      case 'PReLU':
        layer.weights.set('slope', r.raw(p(0, 0), what('slope')));
        break;
      case 'BatchNorm': {
        const c = p(0, 0);
        for (const role of ['slope', 'mean', 'var', 'bias']) layer.weights.set(role, r.raw(c, what(role)));
        break;
      }
      case 'Scale': {
        const size = p(0, 0);
        if (size === -233) throw incompatible(`${layer.name} scales by a second blob`);
        layer.weights.set('scale', r.raw(size, what('scale')));
        if (p(1, 0)) layer.weights.set('bias', r.raw(size, what('bias')));
        break;
      }
      default:
        break;
    }
  }
  if (r.offset !== bin.length)
    throw corrupt(`.bin has ${bin.length} bytes but the layers read ${r.offset}: the .param and .bin do not match`);
  return { layers, bytesRead: r.offset };
}

/** A scalar param (or its default). */
export function scalar(layer: NcnnLayer, key: number, fallback: number): number {
  const v = layer.params.get(key);
  if (v === undefined) return fallback;
  if (Array.isArray(v)) throw corrupt(`${layer.name} param ${key} should be a number`);
  return v;
}

/** An array param (or its default). */
export function array(layer: NcnnLayer, key: number, fallback: number[] = []): number[] {
  const v = layer.params.get(key);
  if (v === undefined) return fallback;
  return Array.isArray(v) ? v : [v];
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** IEEE 754 half -> float. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

export function corrupt(message: string): CoserError {
  return new CoserError('MODEL_CORRUPT', `ncnn model: ${message}`);
}

export function incompatible(message: string): CoserError {
  return new CoserError('MODEL_INCOMPATIBLE', `ncnn model: ${message}`);
}
