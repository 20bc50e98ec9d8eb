import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createDefaultRegistry } from '@coser/nodes';
import {
  applyGraphInputs,
  CoserError,
  checkGraph,
  type Diagnostic,
  executeGraph,
  hasErrors,
  loadGraph,
  type RuntimeLimits,
} from '@coser/runtime';
import { createLocalEnvironment, defaultModelsDir, type LocalEnvironment } from '../environment';
import { resolveInside } from './http/safe-path';
import type { ModelInfo, RunEngine } from './run-engine';

export interface DefaultEngineOptions {
  dataDir: string;
  /** Runs read their inputs from here only (uploads). */
  uploadsDir: string;
  limits: RuntimeLimits;
  modelsDir?: string;
}

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const MODEL_FILE = /^[a-z0-9][a-z0-9._-]*\.onnx$/;

/**
 * The real engine: the default node registry, a node host confined to the uploads folder (reads) and the run's own
 * folder (writes), onnxruntime-node with one session cache and one output cache shared by all runs.
 */
export function createDefaultEngine(options: DefaultEngineOptions): RunEngine {
  const modelsDir = options.modelsDir ?? defaultModelsDir();
  const registry = createDefaultRegistry();
  const inputRoots = [options.uploadsDir];
  // The checking environment also owns the backend and cache that every run shares.
  const shared: LocalEnvironment = createLocalEnvironment({
    modelsDir,
    outputDir: join(options.dataDir, 'runs', '.check'),
    inputRoots,
    limits: options.limits,
    registry,
  });

  return {
    catalog: () => registry.catalog(),

    async prepare(request) {
      const loaded = loadGraph(request.graph);
      if (!loaded.graph || hasErrors(loaded.diagnostics)) return { diagnostics: loaded.diagnostics };
      const applied = applyGraphInputs(loaded.graph, {
        inputs: request.inputs ?? {},
        set: request.set ?? {},
        registry,
      });
      const diagnostics: Diagnostic[] = [...loaded.diagnostics, ...applied.diagnostics];
      if (hasErrors(diagnostics)) return { diagnostics };
      diagnostics.push(...(await checkGraph(applied.graph, registry, { host: shared.host, limits: shared.limits })));
      return { graph: applied.graph, diagnostics };
    },

    async execute({ runId, graph, outputDir, signal, onEvent }) {
      const env = createLocalEnvironment({
        modelsDir,
        outputDir,
        inputRoots,
        limits: options.limits,
        registry,
        backend: shared.backend,
        cache: shared.cache,
      });
      const result = await executeGraph(graph, env, { runId, signal, onEvent });
      return {
        status: result.status,
        outputs: result.outputs,
        ...(result.error
          ? {
              error: {
                code: result.error.code,
                message: result.error.message,
                ...(result.error.node ? { node: result.error.node } : {}),
              },
            }
          : {}),
      };
    },

    async listModels() {
      const names = await readdir(modelsDir).catch(() => [] as string[]);
      const models: ModelInfo[] = [];
      for (const file of names.sort()) {
        if (!file.endsWith('.json')) continue;
        const record = await readRecord(modelsDir, file.slice(0, -'.json'.length));
        if (record) models.push(record);
      }
      return models;
    },

    async modelFile(name) {
      const record = MODEL_NAME.test(name) ? await readRecord(modelsDir, name) : undefined;
      const file = record?.['file'];
      if (!record || typeof file !== 'string' || !MODEL_FILE.test(file)) {
        throw new CoserError(
          'MODEL_MISSING',
          `model ${name} is not installed (install it with: coser models add ${name})`,
        );
      }
      const path = await resolveInside(modelsDir, file).catch(() => {
        throw new CoserError('MODEL_MISSING', `model ${name} is recorded but its file ${file} is missing`);
      });
      return { path, bytes: (await stat(path)).size };
    },

    close: () => shared.backend.releaseAll(),
  };
}

/** An installed model's record (`<modelsDir>/<name>.json`), or undefined when it is missing or unreadable. */
async function readRecord(modelsDir: string, name: string): Promise<ModelInfo | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(join(modelsDir, `${name}.json`), 'utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const record = value as Record<string, unknown>;
    if (record['name'] !== name || typeof record['file'] !== 'string') return undefined;
    return { ...record, name };
  } catch {
    return undefined;
  }
}
