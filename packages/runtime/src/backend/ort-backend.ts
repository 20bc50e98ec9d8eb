// The onnxruntime adapter shared by backend-node and backend-web. It only describes the parts of onnxruntime's API
// it uses (structurally), so the core never imports onnxruntime; each entry point passes its own module in.
import { CoserError, isCoserError } from '../errors';
import type { Tensor, TensorDType } from '../image/tensor';
import type { InferenceBackend, InferenceSession, ModelSource, RunOptions, TensorInfo } from './inference-backend';
import { createSessionCache } from './session-cache';

/** The subset of an onnxruntime tensor the adapter reads. */
export interface OrtTensorLike {
  readonly type: string;
  readonly data: unknown;
  readonly dims: readonly number[];
}

/** The subset of `InferenceSession.ValueMetadata` the adapter reads. */
export interface OrtValueMetadataLike {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  readonly shape?: readonly (number | string)[];
}

export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly OrtValueMetadataLike[];
  readonly outputMetadata?: readonly OrtValueMetadataLike[];
  run(feeds: Record<string, OrtTensorLike>): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}

/** The subset of the `onnxruntime-node` / `onnxruntime-web` module the adapter uses. */
export interface OrtModuleLike {
  readonly Tensor: new (type: TensorDType, data: Tensor['data'], dims: readonly number[]) => OrtTensorLike;
  readonly InferenceSession: {
    create(source: string | Uint8Array, options?: Record<string, unknown>): Promise<OrtSessionLike>;
  };
}

export interface OrtBackendOptions {
  /** e.g. `onnxruntime-node/cpu`. */
  readonly name: string;
  readonly memoryBudgetBytes: number;
  readonly sessionOptions: Record<string, unknown>;
  /** What to hand `InferenceSession.create`: a path (Node) or the bytes. Throws CoserError MODEL_MISSING. */
  source(model: ModelSource): Promise<string | Uint8Array>;
  /** Model size for the memory estimate when the source does not carry it. */
  sizeOf?(model: ModelSource): Promise<number | undefined>;
}

const SUPPORTED: ReadonlySet<string> = new Set<TensorDType>(['float32', 'float16', 'int64', 'int32', 'uint8']);

/** Builds an InferenceBackend on an onnxruntime module: LRU session cache, tensor conversion, error codes. */
export function createOrtBackend(ort: OrtModuleLike, options: OrtBackendOptions): InferenceBackend {
  const sizes = new Map<string, number>();
  const cache = createSessionCache<OrtSessionLike>({
    memoryBudgetBytes: options.memoryBudgetBytes,
    async create(model) {
      const source = await options.source(model);
      const size = model.sizeBytes ?? model.bytes?.byteLength ?? (await options.sizeOf?.(model));
      if (size !== undefined) sizes.set(model.key, size);
      try {
        return await ort.InferenceSession.create(source, options.sessionOptions);
      } catch (cause) {
        throw loadError(model, cause);
      }
    },
    dispose: (session) => session.release(),
    estimateBytes: (model) => 2 * (sizes.get(model.key) ?? model.sizeBytes ?? model.bytes?.byteLength ?? 0),
  });

  return {
    name: options.name,
    async load(model) {
      const session = await cache.get(model);
      return wrapSession(model, session, (work) => cache.use(model, work), ort);
    },
    release: (key) => cache.release(key),
    releaseAll: () => cache.releaseAll(),
  };
}

function wrapSession(
  model: ModelSource,
  session: OrtSessionLike,
  use: <T>(work: (session: OrtSessionLike) => Promise<T>) => Promise<T>,
  ort: OrtModuleLike,
): InferenceSession {
  const inputs = describe(session.inputNames, session.inputMetadata);
  const outputs = describe(session.outputNames, session.outputMetadata);
  return {
    key: model.key,
    inputs,
    outputs,
    async run(feeds: Record<string, Tensor>, runOptions?: RunOptions) {
      throwIfAborted(runOptions, model);
      checkFeeds(model, inputs, feeds);
      const ortFeeds: Record<string, OrtTensorLike> = {};
      for (const [name, tensor] of Object.entries(feeds))
        ortFeeds[name] = new ort.Tensor(tensor.dtype, tensor.data, tensor.dims);
      let results: Record<string, OrtTensorLike>;
      try {
        results = await use((live) => live.run(ortFeeds));
      } catch (cause) {
        throw runError(model, cause);
      }
      throwIfAborted(runOptions, model);
      const out: Record<string, Tensor> = {};
      for (const [name, value] of Object.entries(results)) out[name] = fromOrt(model, name, value);
      return out;
    },
  };
}

function describe(names: readonly string[], metadata: readonly OrtValueMetadataLike[] | undefined): TensorInfo[] {
  return names.map((name) => {
    const meta = metadata?.find((m) => m.name === name);
    return {
      name,
      dtype: meta?.isTensor && meta.type ? meta.type : 'unknown',
      ...(meta?.isTensor && meta.shape ? { dims: [...meta.shape] } : {}),
    };
  });
}

/** Refuses feeds that cannot fit before onnxruntime sees them, with a message naming the model and input. */
function checkFeeds(model: ModelSource, inputs: readonly TensorInfo[], feeds: Record<string, Tensor>): void {
  for (const input of inputs) {
    const feed = feeds[input.name];
    if (!feed) {
      throw new CoserError(
        'MODEL_INCOMPATIBLE',
        `model ${model.name} needs an input "${input.name}" (it takes: ${inputs.map((i) => i.name).join(', ')})`,
      );
    }
    if (input.dtype !== 'unknown' && input.dtype !== feed.dtype) {
      throw new CoserError(
        'MODEL_INCOMPATIBLE',
        `model ${model.name} input "${input.name}" takes ${input.dtype} values, got ${feed.dtype}`,
      );
    }
    const dims = input.dims;
    if (dims && dims.length > 0) {
      const fits =
        dims.length === feed.dims.length && dims.every((d, i) => typeof d !== 'number' || d < 0 || d === feed.dims[i]);
      if (!fits) {
        throw new CoserError(
          'MODEL_INCOMPATIBLE',
          `model ${model.name} input "${input.name}" has shape [${dims.join(', ')}], got [${feed.dims.join(', ')}]`,
        );
      }
    }
  }
  for (const name of Object.keys(feeds)) {
    if (!inputs.some((i) => i.name === name)) {
      throw new CoserError(
        'MODEL_INCOMPATIBLE',
        `model ${model.name} has no input "${name}" (it takes: ${inputs.map((i) => i.name).join(', ')})`,
      );
    }
  }
}

function fromOrt(model: ModelSource, name: string, value: OrtTensorLike): Tensor {
  if (!SUPPORTED.has(value.type)) {
    throw new CoserError(
      'MODEL_INCOMPATIBLE',
      `model ${model.name} output "${name}" is ${value.type}; the runtime handles ${[...SUPPORTED].join(', ')}`,
    );
  }
  return { dtype: value.type as TensorDType, dims: [...value.dims], data: value.data as Tensor['data'] };
}

function throwIfAborted(options: RunOptions | undefined, model: ModelSource): void {
  if (options?.signal?.aborted) throw new CoserError('CANCELLED', `cancelled while running ${model.name}`);
}

const OOM = /out of memory|bad_alloc|failed to allocate|array buffer allocation failed|cudaErrorMemoryAllocation/i;
const INCOMPATIBLE_LOAD = /opset|ir version|not implemented|unsupported|could not find an implementation/i;

function message(cause: unknown): string {
  const text = cause instanceof Error ? cause.message : String(cause);
  // onnxruntime prefixes its own status codes; the first line carries the useful part.
  return (text.split('\n')[0] ?? text).slice(0, 500);
}

function loadError(model: ModelSource, cause: unknown): CoserError {
  if (isCoserError(cause)) return cause;
  const text = message(cause);
  if (OOM.test(text)) return new CoserError('OUT_OF_MEMORY', `out of memory loading model ${model.name}: ${text}`);
  if (INCOMPATIBLE_LOAD.test(text) && !/protobuf/i.test(text)) {
    return new CoserError('MODEL_INCOMPATIBLE', `model ${model.name} cannot run on this onnxruntime: ${text}`);
  }
  return new CoserError(
    'MODEL_CORRUPT',
    `model ${model.name} could not be loaded: the file is damaged or not an ONNX model (${text})`,
    {},
    { cause },
  );
}

function runError(model: ModelSource, cause: unknown): CoserError {
  if (isCoserError(cause)) return cause;
  const text = message(cause);
  if (OOM.test(text)) return new CoserError('OUT_OF_MEMORY', `out of memory running model ${model.name}: ${text}`);
  return new CoserError('MODEL_INCOMPATIBLE', `model ${model.name} failed on its inputs: ${text}`, {}, { cause });
}
