/**
 * A small ONNX ModelProto writer. It encodes the subset of onnx.proto that generated and converted models need
 * (graph, nodes, typed attributes, initializers as little-endian raw_data, typed inputs/outputs with fixed or
 * named dynamic dims) straight onto protobufjs's wire Writer, so it has no schema file and stays browser-safe.
 *
 * Field numbers follow onnx/onnx.proto (IR version 8, default opset 17). Repeated scalar fields are written
 * unpacked, the proto2 default, which every ONNX parser accepts.
 */
import protobuf from 'protobufjs/minimal.js';

/** Element types the builder can declare for inputs, outputs and initializers. */
export type OnnxDType = 'float32' | 'float16' | 'int64' | 'int32' | 'uint8' | 'bool';

/** onnx.TensorProto.DataType values. */
export const ONNX_DATA_TYPE: Readonly<Record<OnnxDType, number>> = {
  float32: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
};

/** A tensor value for initializers and tensor attributes. float16 data is given as raw IEEE half bits. */
export type OnnxTensorData = Float32Array | BigInt64Array | Int32Array | Uint16Array | Uint8Array;

/** A tensor literal (the `value` of a Constant node, for instance). */
export interface OnnxTensorValue {
  dtype: OnnxDType;
  dims: readonly number[];
  data: OnnxTensorData;
}

/** An explicitly typed attribute; build them with {@link attr}. */
export type OnnxAttribute =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'strings'; value: readonly string[] }
  | { kind: 'tensor'; value: OnnxTensorValue };

/**
 * What `.node()` accepts for an attribute. Plain values are typed by shape: an integral number is an INT, any
 * other number a FLOAT, a number[] is INTS when every entry is integral (FLOATS otherwise), a Float32Array is
 * FLOATS, a string is STRING. A FLOAT whose value happens to be integral (alpha = 1) must be spelled
 * `attr.float(1)`.
 */
export type OnnxAttributeValue = number | readonly number[] | string | Float32Array | OnnxAttribute;

/**
 * Explicit attribute constructors, for when the plain-value typing is ambiguous.
 *
 * @example
 * b.node('LeakyRelu', [x], { attributes: { alpha: attr.float(0.2) } });
 * b.node('Resize', [x, '', scales], { attributes: { mode: 'nearest', nearest_mode: 'floor' } });
 */
export const attr = {
  int: (value: number): OnnxAttribute => ({ kind: 'int', value }),
  float: (value: number): OnnxAttribute => ({ kind: 'float', value }),
  string: (value: string): OnnxAttribute => ({ kind: 'string', value }),
  ints: (value: readonly number[]): OnnxAttribute => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): OnnxAttribute => ({ kind: 'floats', value }),
  strings: (value: readonly string[]): OnnxAttribute => ({ kind: 'strings', value }),
  tensor: (dtype: OnnxDType, dims: readonly number[], data: OnnxTensorData): OnnxAttribute => ({
    kind: 'tensor',
    value: { dtype, dims, data },
  }),
};

/** Options of {@link OnnxGraphBuilder}. */
export interface OnnxGraphBuilderOptions {
  /** Default-domain opset version; 17 unless told. */
  opset?: number;
  producerName?: string;
  docString?: string;
  /** Free-form key/value metadata stored in ModelProto.metadata_props. */
  metadata?: Record<string, string>;
}

/** Options of {@link OnnxGraphBuilder.node}. */
export interface OnnxNodeOptions {
  /** How many outputs to create (named automatically), or their names. Defaults to 1. */
  outputs?: number | readonly string[];
  attributes?: Record<string, OnnxAttributeValue | undefined>;
  name?: string;
  domain?: string;
}

type Dim = number | string;
interface ValueInfo {
  name: string;
  dtype: OnnxDType;
  dims: readonly Dim[];
}
interface NodeRecord {
  opType: string;
  name: string;
  domain: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes: [string, OnnxAttribute][];
}
interface Initializer {
  name: string;
  tensor: OnnxTensorValue;
  /** Stored in a separate file (ONNX external data) instead of raw_data. */
  external?: { location: string; offset: number; length: number };
}

const IR_VERSION = 8;
const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_LEN = 2;

/**
 * Builds an ONNX model graph in code and serialises it.
 *
 * @example
 * const b = new OnnxGraphBuilder('conv-relu', { opset: 17 });
 * b.input('x', 'float32', [1, 3, 'height', 'width']);
 * const w = b.initializer('conv.w', 'float32', [8, 3, 3, 3], weights);
 * const [y] = b.node('Conv', ['x', w], { attributes: { pads: [1, 1, 1, 1] } });
 * const [z] = b.node('Relu', [y!], { outputs: ['out'] });
 * b.output('out', 'float32', [1, 8, 'height', 'width']);
 * const bytes = b.toBytes(); // feed to InferenceSession.create(bytes)
 */
export class OnnxGraphBuilder {
  readonly name: string;
  readonly opset: number;
  private readonly options: OnnxGraphBuilderOptions;
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly nodes: NodeRecord[] = [];
  private readonly initializers: Initializer[] = [];
  private readonly usedNames = new Set<string>();
  private counter = 0;

  constructor(name: string, options: OnnxGraphBuilderOptions = {}) {
    this.name = name;
    this.opset = options.opset ?? 17;
    this.options = options;
  }

  /** Declares a graph input. String dims become named dynamic dims (dim_param). */
  input(name: string, dtype: OnnxDType, dims: readonly Dim[]): string {
    this.claim(name);
    this.inputs.push({ name, dtype, dims: [...dims] });
    return name;
  }

  /** Declares a graph output; some node must produce a value of this name. */
  output(name: string, dtype: OnnxDType, dims: readonly Dim[]): string {
    this.outputs.push({ name, dtype, dims: [...dims] });
    return name;
  }

  /**
   * Adds a constant tensor and returns its unique name (the hint, suffixed when already taken).
   * Data is stored as little-endian raw_data.
   */
  initializer(nameHint: string, dtype: OnnxDType, dims: readonly number[], data: OnnxTensorData): string {
    checkTensor(dtype, dims, data);
    const name = this.unique(nameHint);
    this.initializers.push({ name, tensor: { dtype, dims: [...dims], data } });
    return name;
  }

  /**
   * Adds a constant whose bytes live in another file (ONNX external data), `length` bytes at `offset` of
   * `location` (relative to the model file). The model manager refuses locations outside the models folder.
   */
  externalInitializer(
    nameHint: string,
    dtype: OnnxDType,
    dims: readonly number[],
    location: string,
    options: { offset?: number; length?: number } = {},
  ): string {
    const name = this.unique(nameHint);
    const size = dims.reduce((a, b) => a * b, 1) * BYTES_PER_ELEMENT[dtype];
    this.initializers.push({
      name,
      tensor: { dtype, dims: [...dims], data: new Uint8Array(0) },
      external: { location, offset: options.offset ?? 0, length: options.length ?? size },
    });
    return name;
  }

  /** Adds a node and returns its output names (generated from the op type unless `outputs` names them). */
  node(opType: string, inputs: readonly string[], options: OnnxNodeOptions = {}): string[] {
    const name = options.name ? this.unique(options.name) : this.unique(`${opType}_${this.nodes.length}`);
    const outs = options.outputs ?? 1;
    const outputs =
      typeof outs === 'number'
        ? Array.from({ length: outs }, (_, i) => this.unique(`${name}_out${i}`))
        : outs.map((o) => {
            this.claim(o);
            return o;
          });
    const attributes: [string, OnnxAttribute][] = [];
    for (const [key, value] of Object.entries(options.attributes ?? {})) {
      if (value !== undefined) attributes.push([key, toAttribute(key, value)]);
    }
    this.nodes.push({ opType, name, domain: options.domain ?? '', inputs: [...inputs], outputs, attributes });
    return outputs;
  }

  /** Serialises the model as an ONNX ModelProto. */
  toBytes(): Uint8Array {
    const w = protobuf.Writer.create();
    w.uint32(tag(1, WIRE_VARINT)).int64(IR_VERSION);
    w.uint32(tag(2, WIRE_LEN)).string(this.options.producerName ?? 'coser-studio');
    w.uint32(tag(3, WIRE_LEN)).string('0.1.0');
    if (this.options.docString) w.uint32(tag(6, WIRE_LEN)).string(this.options.docString);
    w.uint32(tag(7, WIRE_LEN)).fork();
    this.writeGraph(w);
    w.ldelim();
    w.uint32(tag(8, WIRE_LEN)).fork();
    w.uint32(tag(1, WIRE_LEN)).string('');
    w.uint32(tag(2, WIRE_VARINT)).int64(this.opset);
    w.ldelim();
    for (const [key, value] of Object.entries(this.options.metadata ?? {})) {
      w.uint32(tag(14, WIRE_LEN)).fork();
      w.uint32(tag(1, WIRE_LEN)).string(key);
      w.uint32(tag(2, WIRE_LEN)).string(value);
      w.ldelim();
    }
    return w.finish();
  }

  private writeGraph(w: protobuf.Writer): void {
    for (const n of this.nodes) {
      w.uint32(tag(1, WIRE_LEN)).fork();
      for (const i of n.inputs) w.uint32(tag(1, WIRE_LEN)).string(i);
      for (const o of n.outputs) w.uint32(tag(2, WIRE_LEN)).string(o);
      w.uint32(tag(3, WIRE_LEN)).string(n.name);
      w.uint32(tag(4, WIRE_LEN)).string(n.opType);
      for (const [key, a] of n.attributes) {
        w.uint32(tag(5, WIRE_LEN)).fork();
        writeAttribute(w, key, a);
        w.ldelim();
      }
      if (n.domain) w.uint32(tag(7, WIRE_LEN)).string(n.domain);
      w.ldelim();
    }
    w.uint32(tag(2, WIRE_LEN)).string(this.name);
    for (const init of this.initializers) {
      w.uint32(tag(5, WIRE_LEN)).fork();
      if (init.external) writeExternalTensor(w, init.tensor, init.name, init.external);
      else writeTensor(w, init.tensor, init.name);
      w.ldelim();
    }
    for (const v of this.inputs) {
      w.uint32(tag(11, WIRE_LEN)).fork();
      writeValueInfo(w, v);
      w.ldelim();
    }
    for (const v of this.outputs) {
      w.uint32(tag(12, WIRE_LEN)).fork();
      writeValueInfo(w, v);
      w.ldelim();
    }
  }

  private claim(name: string): void {
    if (this.usedNames.has(name)) throw new Error(`ONNX value name '${name}' is already used in graph ${this.name}`);
    this.usedNames.add(name);
  }

  private unique(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_.:/-]/g, '_') || 'v';
    let name = base;
    while (this.usedNames.has(name)) name = `${base}_${++this.counter}`;
    this.usedNames.add(name);
    return name;
  }
}

function tag(field: number, wire: number): number {
  return ((field << 3) | wire) >>> 0;
}

function toAttribute(key: string, value: OnnxAttributeValue): OnnxAttribute {
  if (typeof value === 'number') return Number.isInteger(value) ? attr.int(value) : attr.float(value);
  if (typeof value === 'string') return attr.string(value);
  if (value instanceof Float32Array) return attr.floats(Array.from(value));
  if (Array.isArray(value)) {
    const list = value as readonly number[];
    return list.every((v) => Number.isInteger(v)) ? attr.ints(list) : attr.floats(list);
  }
  if (typeof value === 'object' && value !== null && 'kind' in value) return value as OnnxAttribute;
  throw new TypeError(`attribute ${key} has an unsupported value`);
}

/** onnx.AttributeProto.AttributeType values. */
const ATTR_TYPE = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7, strings: 8 } as const;

function writeAttribute(w: protobuf.Writer, name: string, a: OnnxAttribute): void {
  w.uint32(tag(1, WIRE_LEN)).string(name);
  switch (a.kind) {
    case 'float':
      w.uint32(tag(2, WIRE_FIXED32)).float(a.value);
      break;
    case 'int':
      w.uint32(tag(3, WIRE_VARINT)).int64(a.value);
      break;
    case 'string':
      w.uint32(tag(4, WIRE_LEN)).bytes(new TextEncoder().encode(a.value));
      break;
    case 'tensor':
      w.uint32(tag(5, WIRE_LEN)).fork();
      writeTensor(w, a.value, '');
      w.ldelim();
      break;
    case 'floats':
      for (const v of a.value) w.uint32(tag(7, WIRE_FIXED32)).float(v);
      break;
    case 'ints':
      for (const v of a.value) w.uint32(tag(8, WIRE_VARINT)).int64(v);
      break;
    case 'strings':
      for (const v of a.value) w.uint32(tag(9, WIRE_LEN)).bytes(new TextEncoder().encode(v));
      break;
  }
  w.uint32(tag(20, WIRE_VARINT)).int32(ATTR_TYPE[a.kind]);
}

function writeTensor(w: protobuf.Writer, t: OnnxTensorValue, name: string): void {
  for (const d of t.dims) w.uint32(tag(1, WIRE_VARINT)).int64(d);
  w.uint32(tag(2, WIRE_VARINT)).int32(ONNX_DATA_TYPE[t.dtype]);
  if (name) w.uint32(tag(8, WIRE_LEN)).string(name);
  w.uint32(tag(9, WIRE_LEN)).bytes(littleEndianBytes(t.data));
}

function writeExternalTensor(
  w: protobuf.Writer,
  t: OnnxTensorValue,
  name: string,
  external: { location: string; offset: number; length: number },
): void {
  for (const d of t.dims) w.uint32(tag(1, WIRE_VARINT)).int64(d);
  w.uint32(tag(2, WIRE_VARINT)).int32(ONNX_DATA_TYPE[t.dtype]);
  w.uint32(tag(8, WIRE_LEN)).string(name);
  for (const [key, value] of [
    ['location', external.location],
    ['offset', String(external.offset)],
    ['length', String(external.length)],
  ]) {
    w.uint32(tag(13, WIRE_LEN)).fork();
    w.uint32(tag(1, WIRE_LEN)).string(key!);
    w.uint32(tag(2, WIRE_LEN)).string(value!);
    w.ldelim();
  }
  w.uint32(tag(14, WIRE_VARINT)).int32(1); // data_location = EXTERNAL
}

const BYTES_PER_ELEMENT: Readonly<Record<OnnxDType, number>> = {
  float32: 4,
  float16: 2,
  int64: 8,
  int32: 4,
  uint8: 1,
  bool: 1,
};

function writeValueInfo(w: protobuf.Writer, v: ValueInfo): void {
  w.uint32(tag(1, WIRE_LEN)).string(v.name);
  w.uint32(tag(2, WIRE_LEN)).fork(); // TypeProto
  w.uint32(tag(1, WIRE_LEN)).fork(); // TypeProto.Tensor
  w.uint32(tag(1, WIRE_VARINT)).int32(ONNX_DATA_TYPE[v.dtype]);
  w.uint32(tag(2, WIRE_LEN)).fork(); // TensorShapeProto
  for (const d of v.dims) {
    w.uint32(tag(1, WIRE_LEN)).fork();
    if (typeof d === 'number') w.uint32(tag(1, WIRE_VARINT)).int64(d);
    else w.uint32(tag(2, WIRE_LEN)).string(d);
    w.ldelim();
  }
  w.ldelim();
  w.ldelim();
  w.ldelim();
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The tensor's bytes in little-endian order, as raw_data requires (a copy only on big-endian hosts). */
function littleEndianBytes(data: OnnxTensorData): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN_HOST || data.BYTES_PER_ELEMENT === 1) return bytes;
  const out = new Uint8Array(bytes.length);
  const size = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < bytes.length; i += size) {
    for (let j = 0; j < size; j++) out[i + j] = bytes[i + size - 1 - j]!;
  }
  return out;
}

const ELEMENT_TYPES: Readonly<Record<OnnxDType, string>> = {
  float32: 'Float32Array',
  float16: 'Uint16Array',
  int64: 'BigInt64Array',
  int32: 'Int32Array',
  uint8: 'Uint8Array',
  bool: 'Uint8Array',
};

function checkTensor(dtype: OnnxDType, dims: readonly number[], data: OnnxTensorData): void {
  const size = dims.reduce((a, b) => a * b, 1);
  if (data.length !== size) throw new RangeError(`tensor has ${data.length} values, dims [${dims}] need ${size}`);
  if (data.constructor.name !== ELEMENT_TYPES[dtype])
    throw new TypeError(`${dtype} tensor data must be a ${ELEMENT_TYPES[dtype]}, got ${data.constructor.name}`);
}
