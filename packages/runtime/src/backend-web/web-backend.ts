import type * as OrtWeb from 'onnxruntime-web';
import type { InferenceBackend, ModelSource } from '../backend/inference-backend';
import { createOrtBackend, type OrtModuleLike } from '../backend/ort-backend';
import { DEFAULT_LIMITS } from '../engine/node-definition';
import { CoserError } from '../errors';

export interface WebBackendOptions {
  /** In order of preference, e.g. `['webgpu', 'wasm']`. */
  readonly executionProviders: readonly string[];
  /** Estimated memory the cached sessions may hold (model size x2 each). Default: `DEFAULT_LIMITS.memoryBudgetBytes`. */
  readonly memoryBudgetBytes?: number;
}

/**
 * The browser inference backend on onnxruntime-web. The module is passed in (the caller imports it and sets
 * `ort.env.wasm` options first) so this file only imports its types. Models must come with their `bytes`.
 *
 * @example
 * import * as ort from 'onnxruntime-web';
 * const backend = createWebBackend(ort, { executionProviders: ['webgpu', 'wasm'] });
 */
export function createWebBackend(ort: typeof OrtWeb, options: WebBackendOptions): InferenceBackend {
  const executionProviders = [...options.executionProviders];
  return createOrtBackend(ort as OrtModuleLike, {
    name: `onnxruntime-web/${executionProviders[0] ?? 'wasm'}`,
    memoryBudgetBytes: options.memoryBudgetBytes ?? DEFAULT_LIMITS.memoryBudgetBytes,
    sessionOptions: { executionProviders, graphOptimizationLevel: 'all' },
    async source(model: ModelSource) {
      if (!model.bytes) {
        throw new CoserError('MODEL_MISSING', `model ${model.name} was not downloaded (the browser needs its bytes)`);
      }
      return model.bytes;
    },
  });
}
