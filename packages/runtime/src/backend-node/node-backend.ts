import { stat } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import type { InferenceBackend, ModelSource } from '../backend/inference-backend';
import { createOrtBackend, type OrtModuleLike } from '../backend/ort-backend';
import { DEFAULT_LIMITS } from '../engine/node-definition';
import { CoserError } from '../errors';

export interface NodeBackendOptions {
  /** Estimated memory the cached sessions may hold (model size x2 each). Default: `DEFAULT_LIMITS.memoryBudgetBytes`. */
  readonly memoryBudgetBytes?: number;
  /** onnxruntime execution providers in order of preference. Default `['cpu']`; `['cuda', 'cpu']` with the CUDA build. */
  readonly executionProviders?: readonly string[];
  /** Threads per operator; default: onnxruntime's choice (one per core). */
  readonly intraOpThreads?: number;
}

/**
 * The Node inference backend on onnxruntime-node: sessions cached by `ModelSource.key` and released least recently
 * used first when the memory budget is exceeded. Models load from `path` (read by onnxruntime, not copied into
 * JS memory) or from `bytes`.
 *
 * @example
 * const backend = createNodeBackend({ memoryBudgetBytes: 4 * 1024 ** 3, intraOpThreads: 2 });
 * const session = await backend.load({ key: sha256, name: 'esrgan-slim-x4', path: '/models/esrgan-slim-x4.onnx' });
 */
export function createNodeBackend(options: NodeBackendOptions = {}): InferenceBackend {
  const executionProviders = [...(options.executionProviders ?? ['cpu'])];
  return createOrtBackend(ort as OrtModuleLike, {
    name: `onnxruntime-node/${executionProviders[0] ?? 'cpu'}`,
    memoryBudgetBytes: options.memoryBudgetBytes ?? DEFAULT_LIMITS.memoryBudgetBytes,
    sessionOptions: {
      executionProviders,
      graphOptimizationLevel: 'all',
      // Failures come back as CoserErrors with onnxruntime's message; its own stderr log would print them twice.
      logSeverityLevel: 4,
      ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
    },
    source: modelSource,
    async sizeOf(model) {
      if (!model.path) return undefined;
      return (await stat(model.path)).size;
    },
  });
}

async function modelSource(model: ModelSource): Promise<string | Uint8Array> {
  if (model.bytes) return model.bytes;
  if (!model.path) throw new CoserError('MODEL_MISSING', `model ${model.name} has neither bytes nor a file path`);
  try {
    const info = await stat(model.path);
    if (!info.isFile()) throw new CoserError('MODEL_MISSING', `model ${model.name}: ${model.path} is not a file`);
  } catch (cause) {
    if (cause instanceof CoserError) throw cause;
    throw new CoserError('MODEL_MISSING', `model ${model.name} is not installed (no file at ${model.path})`);
  }
  return model.path;
}
