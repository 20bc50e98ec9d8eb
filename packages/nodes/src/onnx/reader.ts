/**
 * Reads what the model manager must know about an ONNX file without loading it into a runtime: opsets, graph
 * inputs/outputs with their element types and dims, metadata, and every external-data location (including those
 * of tensors inside subgraphs and tensor attributes), so a file pointing outside its folder is refused before
 * onnxruntime would open it. Truncated or fuzzed bytes give MODEL_CORRUPT, never a crash. Browser-safe.
 */
import { CoserError } from '@coser/runtime';
import protobuf from 'protobufjs/minimal.js';

export interface OnnxValueInfo {
  name: string;
  /** onnx.TensorProto.DataType (1 = float32, 10 = float16, 7 = int64); 0 when not a tensor. */
  elemType: number;
  /** Fixed dims as numbers, named dynamic dims as strings, unknown as '?'. */
  dims: (number | string)[];
}

export interface OnnxSummary {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producer: string;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** Initializer names (graph inputs that are also initializers are not real inputs). */
  initializers: string[];
  /** `location` of every tensor stored as external data. */
  externalData: string[];
  metadata: Record<string, string>;
  nodeCount: number;
}

/** Graph nesting deeper than this is refused (a fuzzed file must not exhaust the stack). */
const MAX_DEPTH = 32;

/**
 * Parses an ONNX ModelProto's header and graph signature.
 *
 * @example
 * const info = readOnnxSummary(bytes);
 * if (info.externalData.length) refuseOutsideFolder(info.externalData);
 */
export function readOnnxSummary(bytes: Uint8Array): OnnxSummary {
  const summary: OnnxSummary = {
    irVersion: 0,
    opsets: [],
    producer: '',
    inputs: [],
    outputs: [],
    initializers: [],
    externalData: [],
    metadata: {},
    nodeCount: 0,
  };
  try {
    const r = protobuf.Reader.create(bytes);
    let sawGraph = false;
    while (r.pos < r.len) {
      const t = r.uint32();
      switch (t >>> 3) {
        case 1:
          summary.irVersion = toNumber(r.int64());
          break;
        case 2:
          summary.producer = r.string();
          break;
        case 7:
          readGraph(sub(r), summary, 0, true);
          sawGraph = true;
          break;
        case 8: {
          const m = sub(r);
          let domain = '';
          let version = 0;
          while (m.pos < m.len) {
            const mt = m.uint32();
            if (mt >>> 3 === 1) domain = m.string();
            else if (mt >>> 3 === 2) version = toNumber(m.int64());
            else m.skipType(mt & 7);
          }
          summary.opsets.push({ domain, version });
          break;
        }
        case 14: {
          const [k, v] = readStringPair(sub(r));
          summary.metadata[k] = v;
          break;
        }
        default:
          r.skipType(t & 7);
      }
    }
    if (!sawGraph || summary.irVersion <= 0) throw new Error('no graph or IR version');
  } catch (cause) {
    if (cause instanceof CoserError) throw cause;
    throw new CoserError('MODEL_CORRUPT', `not a readable ONNX model (${(cause as Error).message})`, {}, { cause });
  }
  const init = new Set(summary.initializers);
  summary.inputs = summary.inputs.filter((i) => !init.has(i.name));
  return summary;
}

function sub(r: protobuf.Reader): protobuf.Reader {
  const len = r.uint32();
  if (r.pos + len > r.len) throw new RangeError(`field of ${len} bytes runs past the end of the file`);
  const child = protobuf.Reader.create(r.buf.subarray(r.pos, r.pos + len));
  r.pos += len;
  return child;
}

function readGraph(r: protobuf.Reader, s: OnnxSummary, depth: number, top: boolean): void {
  if (depth > MAX_DEPTH) throw new CoserError('MODEL_CORRUPT', 'ONNX subgraphs nest too deeply');
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1:
        if (top) s.nodeCount++;
        readNode(sub(r), s, depth);
        break;
      case 5: {
        const name = readTensor(sub(r), s);
        if (top) s.initializers.push(name);
        break;
      }
      case 11:
        if (top) s.inputs.push(readValueInfo(sub(r)));
        else r.skipType(t & 7);
        break;
      case 12:
        if (top) s.outputs.push(readValueInfo(sub(r)));
        else r.skipType(t & 7);
        break;
      case 15: {
        // SparseTensorProto: values (1) and indices (2) are TensorProtos that may be external.
        const sp = sub(r);
        while (sp.pos < sp.len) {
          const st = sp.uint32();
          if (st >>> 3 === 1 || st >>> 3 === 2) readTensor(sub(sp), s);
          else sp.skipType(st & 7);
        }
        break;
      }
      default:
        r.skipType(t & 7);
    }
  }
}

function readNode(r: protobuf.Reader, s: OnnxSummary, depth: number): void {
  while (r.pos < r.len) {
    const t = r.uint32();
    if (t >>> 3 !== 5) {
      r.skipType(t & 7);
      continue;
    }
    const a = sub(r);
    while (a.pos < a.len) {
      const at = a.uint32();
      const field = at >>> 3;
      if (field === 5 || field === 10) readTensor(sub(a), s);
      else if (field === 6 || field === 11) readGraph(sub(a), s, depth + 1, false);
      else a.skipType(at & 7);
    }
  }
}

/** Records external-data locations; returns the tensor's name. */
function readTensor(r: protobuf.Reader, s: OnnxSummary): string {
  let name = '';
  let external = false;
  const locations: string[] = [];
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 8:
        name = r.string();
        break;
      case 13: {
        const [k, v] = readStringPair(sub(r));
        if (k === 'location') locations.push(v);
        break;
      }
      case 14:
        external = r.int32() === 1;
        break;
      default:
        r.skipType(t & 7);
    }
  }
  if (external && locations.length === 0)
    throw new CoserError('MODEL_CORRUPT', `tensor ${name} is marked external but names no location`);
  // A location without data_location=EXTERNAL is ignored by onnxruntime, but it is refused the same way.
  s.externalData.push(...locations);
  return name;
}

function readValueInfo(r: protobuf.Reader): OnnxValueInfo {
  const info: OnnxValueInfo = { name: '', elemType: 0, dims: [] };
  while (r.pos < r.len) {
    const t = r.uint32();
    if (t >>> 3 === 1) info.name = r.string();
    else if (t >>> 3 === 2) readType(sub(r), info);
    else r.skipType(t & 7);
  }
  return info;
}

function readType(r: protobuf.Reader, info: OnnxValueInfo): void {
  while (r.pos < r.len) {
    const t = r.uint32();
    if (t >>> 3 !== 1) {
      r.skipType(t & 7);
      continue;
    }
    const tensor = sub(r);
    while (tensor.pos < tensor.len) {
      const tt = tensor.uint32();
      if (tt >>> 3 === 1) info.elemType = tensor.int32();
      else if (tt >>> 3 === 2) {
        const shape = sub(tensor);
        while (shape.pos < shape.len) {
          const st = shape.uint32();
          if (st >>> 3 !== 1) {
            shape.skipType(st & 7);
            continue;
          }
          const dim = sub(shape);
          let value: number | string = '?';
          while (dim.pos < dim.len) {
            const dt = dim.uint32();
            if (dt >>> 3 === 1) value = toNumber(dim.int64());
            else if (dt >>> 3 === 2) value = dim.string();
            else dim.skipType(dt & 7);
          }
          info.dims.push(value);
        }
      } else tensor.skipType(tt & 7);
    }
  }
}

function readStringPair(r: protobuf.Reader): [string, string] {
  let key = '';
  let value = '';
  while (r.pos < r.len) {
    const t = r.uint32();
    if (t >>> 3 === 1) key = r.string();
    else if (t >>> 3 === 2) value = r.string();
    else r.skipType(t & 7);
  }
  return [key, value];
}

/** protobufjs gives int64 as a number or, when the long package is present, as {low, high}. */
function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  const { low, high } = value as { low: number; high: number };
  return high * 2 ** 32 + (low >>> 0);
}
