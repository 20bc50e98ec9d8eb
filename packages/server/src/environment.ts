import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDefaultRegistry } from '@coser/nodes';
import { createModelStore, createNodeHost, type ModelResolver } from '@coser/nodes/node';
import {
  createOutputCache,
  DEFAULT_LIMITS,
  type ExecutionEnv,
  type InferenceBackend,
  type InferenceSession,
  type ModelSource,
  type NodeRegistry,
  type OutputCache,
  type RuntimeLimits,
} from '@coser/runtime';
import { findRepoRoot } from './repo-root';

export { findRepoRoot };

/** What a local run (the CLI, or one server run) may read, write and use. */
export interface LocalEnvironmentOptions {
  /** Folder of installed models (default: `defaultModelsDir()`). */
  readonly modelsDir?: string;
  /** Folder the run's outputs are written to (created on the first write). */
  readonly outputDir: string;
  /** Folders inputs may be read from; a relative input name is looked up in each, in order. */
  readonly inputRoots: readonly string[];
  /** Folders read only under a name prefix, e.g. `{ samples: 'graphs/samples' }` (see `createNodeHost`). */
  readonly namedInputFolders?: Readonly<Record<string, string>>;
  /** Files no output may replace (the run's inputs, the graph file). */
  readonly protectedPaths?: readonly string[];
  /** Overrides of the default limits (pixel cap, memory budget). */
  readonly limits?: Partial<RuntimeLimits>;
  /** Resolves model names (default: a new model store on `modelsDir`; share one to hash each model file once). */
  readonly models?: ModelResolver;
  /** Share one backend (and its session cache) between environments, e.g. across a server's runs. */
  readonly backend?: InferenceBackend;
  /** Share one output cache between runs (a batch, a server); default: a new cache per environment. */
  readonly cache?: OutputCache;
  /** Default: `createDefaultRegistry()`. */
  readonly registry?: NodeRegistry;
}

/** An ExecutionEnv whose limits and cache are always set (node checks need the full limits). */
export interface LocalEnvironment extends ExecutionEnv {
  readonly limits: RuntimeLimits;
  readonly cache: OutputCache;
  /** The model resolver the host uses; pass it to later environments to share its sha256 cache. */
  readonly models: ModelResolver;
}

/**
 * Everything `executeGraph` needs to run on this machine: the default node registry, onnxruntime-node, a host
 * confined to the given folders and an output cache. The CLI makes one per command; the server one per run
 * (passing its shared `backend` and `cache`).
 *
 * @example
 * const env = createLocalEnvironment({ outputDir: 'out', inputRoots: [process.cwd()], protectedPaths: ['in.png'] });
 * const result = await executeGraph(graph, env, { onEvent: (e) => console.log(e.type) });
 */
export function createLocalEnvironment(options: LocalEnvironmentOptions): LocalEnvironment {
  const limits: RuntimeLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const modelsDir = path.resolve(options.modelsDir ?? defaultModelsDir());
  const models = options.models ?? createModelStore(modelsDir);
  const host = createNodeHost({
    inputRoots: options.inputRoots,
    outputDir: options.outputDir,
    modelsDir,
    models,
    ...(options.protectedPaths ? { protectedPaths: options.protectedPaths } : {}),
    ...(options.namedInputFolders ? { namedInputFolders: options.namedInputFolders } : {}),
  });
  return {
    registry: options.registry ?? createDefaultRegistry(),
    backend: options.backend ?? createLazyNodeBackend(limits.memoryBudgetBytes),
    host,
    limits,
    cache: options.cache ?? createOutputCache(),
    models,
  };
}

/**
 * The onnxruntime-node backend, loaded on the first model load: onnxruntime's native library takes a noticeable
 * part of a second to load, and graphs without models (resize, colour fix, metrics) never need it.
 */
export function createLazyNodeBackend(memoryBudgetBytes: number): InferenceBackend {
  let real: Promise<InferenceBackend> | undefined;
  let loaded: InferenceBackend | undefined;
  const backend = (): Promise<InferenceBackend> =>
    (real ??= import('@coser/runtime/backend-node').then(({ createNodeBackend }): InferenceBackend => {
      const created = createNodeBackend({ memoryBudgetBytes, executionProviders: executionProvidersFromEnv() });
      loaded = created;
      return created;
    }));
  return {
    // Provenance records the backend's name; until a model is loaded no model ran, so the family name is right.
    get name() {
      return loaded?.name ?? 'onnxruntime-node';
    },
    load: async (model: ModelSource): Promise<InferenceSession> => (await backend()).load(model),
    release: async (key: string) => {
      if (real) await (await real).release(key);
    },
    releaseAll: async () => {
      if (real) await (await real).releaseAll();
    },
  };
}

/**
 * Where models are installed unless told otherwise: `$COSER_MODELS_DIR`, else `.models` in the repository root
 * (the nearest folder above this file whose package.json declares workspaces), else `./.models`.
 */
export function defaultModelsDir(): string {
  const fromEnv = process.env['COSER_MODELS_DIR'];
  if (fromEnv) return path.resolve(fromEnv);
  const root = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));
  return path.join(root ?? process.cwd(), '.models');
}

/**
 * onnxruntime execution providers from `COSER_EXECUTION_PROVIDERS` (comma-separated, in order of preference, e.g.
 * `cuda,cpu` with onnxruntime-node's CUDA build; docs/models.md). Default `cpu`. The CLI, the server and workers all
 * build their backend here, so one variable sets it everywhere.
 */
export function executionProvidersFromEnv(env: Record<string, string | undefined> = process.env): string[] {
  const listed = (env['COSER_EXECUTION_PROVIDERS'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  return listed.length > 0 ? listed : ['cpu'];
}
