import { existsSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CatalogueModel, createDefaultRegistry } from '@coser/nodes';
import { createModelStore, INSTALL_STEPS } from '@coser/nodes/node';
import {
  applyGraphInputs,
  CoserError,
  checkGraph,
  DEFAULT_MAX_NODES,
  type Diagnostic,
  executeGraph,
  hasErrors,
  loadGraph,
  type RuntimeLimits,
} from '@coser/runtime';
import { createLocalEnvironment, defaultModelsDir, type LocalEnvironment } from '../environment';
import { findRepoRoot } from '../repo-root';
import { resolveInside } from './http/safe-path';
import type { ModelInfo, RunEngine } from './run-engine';

export interface DefaultEngineOptions {
  dataDir: string;
  /** Runs read their inputs from here only (uploads). */
  uploadsDir: string;
  limits: RuntimeLimits;
  modelsDir?: string;
  /**
   * The sample images the presets name (`samples/astronaut-lr.png`), readable read-only under `samples/` and nothing
   * else of their folder's parent (default the repository's graphs/samples; false: none).
   */
  samplesDir?: string | false;
}

/** graphs/samples of the repository this code runs from, when there is one. */
function defaultSamplesDir(): string | undefined {
  const root = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
  const dir = root ? join(root, 'graphs', 'samples') : undefined;
  return dir && existsSync(dir) ? dir : undefined;
}

/**
 * The real engine: the default node registry, a node host confined to the uploads folder and the sample images
 * (reads) and the run's own folder (writes), onnxruntime-node with one session cache and one output cache shared by all runs.
 */
export function createDefaultEngine(options: DefaultEngineOptions): RunEngine {
  const modelsDir = options.modelsDir ?? defaultModelsDir();
  const registry = createDefaultRegistry();
  // One store for every run, so each model file is hashed once.
  const store = createModelStore(modelsDir);
  const inputRoots = [options.uploadsDir];
  const samplesDir = options.samplesDir === undefined ? defaultSamplesDir() : options.samplesDir || undefined;
  const namedInputFolders: Record<string, string> = samplesDir ? { samples: samplesDir } : {};
  // The checking environment also owns the backend and cache that every run shares.
  const shared: LocalEnvironment = createLocalEnvironment({
    modelsDir,
    outputDir: join(options.dataDir, 'runs', '.check'),
    inputRoots,
    namedInputFolders,
    limits: options.limits,
    registry,
    models: store,
  });

  return {
    catalog: () => registry.catalog(),

    async prepare(request) {
      const tooLarge = countCheck(request.graph);
      if (tooLarge) return { diagnostics: [tooLarge] };
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
        namedInputFolders,
        limits: options.limits,
        registry,
        backend: shared.backend,
        cache: shared.cache,
        models: store,
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
      const listings = await store.list();
      return listings.flatMap((l): ModelInfo[] => (l.installed ? [{ ...l.installed, name: l.name }] : []));
    },

    async catalogue() {
      return (await store.list()).map(
        (l): CatalogueModel => ({
          name: l.name,
          title: l.entry.title,
          description: l.entry.description,
          scale: l.entry.scale,
          licence: l.entry.licence,
          downloadMB: l.entry.downloadMB,
          default: l.entry.default,
          inCatalogue: l.inCatalogue,
          installed: l.installed !== undefined,
          ...(l.installed ? { sizeBytes: l.installed.sizeBytes, sha256: l.installed.sha256 } : {}),
        }),
      );
    },

    async installModel(name, { log, onProgress }) {
      const record = await store.add(name, {
        log,
        onStep: (step) => onProgress({ step, index: INSTALL_STEPS.indexOf(step) + 1, count: INSTALL_STEPS.length }),
      });
      return { ...record, name: record.name };
    },

    async modelFile(name) {
      // resolve() applies the store's checks (file inside the folder, no pickles, hash) before anything is served.
      const { source } = await store.resolve(name);
      if (!source.path) throw new CoserError('MODEL_MISSING', `model ${name} has no file on disk`);
      const path = await resolveInside(modelsDir, relative(await realpath(modelsDir), await realpath(source.path)));
      return { path, bytes: (await stat(path)).size };
    },

    close: () => shared.backend.releaseAll(),
  };
}

/**
 * Refuses a parsed graph with more nodes or edges than validation accepts before the schema walks every one of
 * them: 10,000 nodes cost 100+ ms in the full load, this costs nothing.
 */
function countCheck(graph: unknown): Diagnostic | undefined {
  if (typeof graph !== 'object' || graph === null) return undefined;
  const { nodes, edges } = graph as { nodes?: unknown; edges?: unknown };
  const count = Math.max(Array.isArray(nodes) ? nodes.length : 0, Array.isArray(edges) ? edges.length / 4 : 0);
  if (count <= DEFAULT_MAX_NODES) return undefined;
  return {
    severity: 'error',
    code: 'GRAPH_TOO_LARGE',
    message: `the graph has ${Array.isArray(nodes) ? nodes.length : '?'} nodes and ${Array.isArray(edges) ? edges.length : '?'} edges; at most ${DEFAULT_MAX_NODES} nodes (and 4x as many edges) are accepted`,
  };
}
