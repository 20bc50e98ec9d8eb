/// <reference lib="webworker" />
// The editor's runtime worker: the same node code as the CLI, on onnxruntime-web. Runs, validation and static
// info all happen here, so the UI thread never loads node code or ONNX sessions and stays responsive.
import { createDefaultRegistry, MODEL_CATALOGUE } from '@coser/nodes';
import type { ImageBuffer, InferenceBackend, RunEvent } from '@coser/runtime';
import {
  createOutputCache,
  DEFAULT_LIMITS,
  executeGraph,
  inferStaticInfo,
  pixelCapDiagnostics,
  validateGraph,
} from '@coser/runtime';
import { createWebBackend } from '@coser/runtime/backend-web';
import * as ort from 'onnxruntime-web';
import { gpuGuardedBackend } from './gpu-guard';
import { createModelLoader, type ModelLoader } from './model-loader';
import { createPickedModelSets } from './picked-sets';
import type { BackendChoice, FromWorker, KeptValue, ToWorker } from './protocol';
import { loadSampleImages } from './sample-images';
import { withUploadSizes } from './upload-sizes';
import { createWebHost, planarToRgba } from './web-host';
import { yieldingBackend } from './yielding-backend';

declare const self: DedicatedWorkerGlobalScope;

/** Output cache budget: re-running after a param change downstream reuses the upstream results. */
const CACHE_BYTES = 512 * 1024 * 1024;

interface WorkerState {
  models: ModelLoader;
  backendChoice: BackendChoice;
  backend?: Promise<InferenceBackend>;
  maxPixels: number;
}

// onnxruntime-web starts its WASM threads by loading this same script under the name 'em-pthread'; those copies
// must not install the editor's handler.
if (self.name !== 'em-pthread') startWorker();

function startWorker(): void {
  const registry = createDefaultRegistry();
  const cache = createOutputCache({ maxBytes: CACHE_BYTES });
  const runs = new Map<string, AbortController>();
  let state: WorkerState | undefined;
  let currentRun: string | undefined;
  /** Model files the user picked, by the name they run under; they outlive a change of settings (a new loader). */
  const pickedModels = new Map<string, { bytes: Uint8Array; entry: Record<string, unknown> }>();
  const modelSets = createPickedModelSets();
  /** Set once WebGPU raised a validation error: "auto" uses WASM from then on. */
  let gpuBroken = false;
  // One host for the worker's life: uploads survive a change of settings; models come from the current loader.
  const host = createWebHost({
    models: {
      resolve: (name) => {
        if (!state) throw new Error('worker not initialised');
        return state.models.resolve(name);
      },
    },
    modelSets,
    onOutput: (name, bytes, mime) => {
      const runId = currentRun;
      if (runId)
        post({ type: 'file', runId, name, blob: new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mime }) });
    },
  });

  // Static info sees uploaded images' sizes (read from their headers when asked).
  const sizedRegistry = withUploadSizes(registry, (id) => host.uploadSize(id));

  const post = (message: FromWorker) => self.postMessage(message);

  // The presets' sample photos come first: every message waits for them (in order), so a preset's first analysis
  // shows its sizes and its first run finds its image.
  const samples = loadSampleImages((id, bytes) => host.addUpload(id, bytes));
  self.onmessage = (event: MessageEvent<ToWorker>) => void samples.then(() => handle(event));

  const handle = (event: MessageEvent<ToWorker>) => {
    const message = event.data;
    try {
      switch (message.type) {
        case 'init': {
          const models = createModelLoader({
            baseUrl: message.modelsBaseUrl,
            // The catalogue's entries: pickers list them (a picked .onnx file needs its entry) without a server.
            builtIn: MODEL_CATALOGUE.map((entry) => ({ ...entry })),
            ...(message.token ? { token: message.token } : {}),
          });
          for (const [name, picked] of pickedModels) models.addLocalFile(name, picked.bytes, picked.entry);
          const previous = state;
          state = {
            models,
            backendChoice: message.backend,
            maxPixels: message.maxPixels ?? DEFAULT_LIMITS.maxPixels,
            // Keep sessions when only the server settings changed; a new execution provider needs a new backend.
            ...(previous?.backend && previous.backendChoice === message.backend ? { backend: previous.backend } : {}),
          };
          post({ type: 'ready', catalog: registry.catalog() });
          break;
        }
        case 'analyze': {
          const diagnostics = validateGraph(message.graph, registry);
          const staticInfo = inferStaticInfo(message.graph, sizedRegistry);
          // An upload whose size makes some output pass the cap is flagged on that node before anything runs.
          diagnostics.push(...pixelCapDiagnostics(staticInfo, state?.maxPixels ?? DEFAULT_LIMITS.maxPixels));
          post({ type: 'analysis', requestId: message.requestId, diagnostics, staticInfo });
          break;
        }
        case 'upload':
          host.addUpload(message.id, message.bytes);
          break;
        case 'model-file': {
          const models = state?.models;
          if (!models) break;
          void models.adoptPickedFile(message.name, message.fileName, message.bytes).then(({ entry, ...result }) => {
            pickedModels.set(result.name, { bytes: message.bytes, entry });
            post({ type: 'model-file', requestId: message.requestId, result });
          });
          break;
        }
        case 'model-set':
          modelSets.add(message.name, message.files);
          break;
        case 'refresh-models':
          state?.models.refresh();
          break;
        case 'list-models': {
          const models = state?.models;
          void Promise.all([models?.list() ?? [], models?.problem()]).then(([list, problem]) =>
            post({ type: 'models', requestId: message.requestId, models: list, ...(problem ? { problem } : {}) }),
          );
          break;
        }
        case 'run':
          if (state) void run(state, message.runId, message.graph, message.keep);
          break;
        case 'cancel':
          runs.get(message.runId)?.abort();
          break;
      }
    } catch (cause) {
      post({ type: 'fatal', message: cause instanceof Error ? cause.message : String(cause) });
    }
  };

  async function run(
    s: WorkerState,
    runId: string,
    graph: Parameters<typeof executeGraph>[0],
    keep: string[] | undefined,
  ) {
    const controller = new AbortController();
    runs.set(runId, controller);
    try {
      s.backend ??= createBackend(
        s.backendChoice,
        gpuBroken,
        () => {
          // Next run: a fresh backend, which on "auto" skips WebGPU; the broken one's sessions are freed.
          gpuBroken = true;
          const broken = s.backend;
          s.backend = undefined;
          void broken?.then((b) => b.releaseAll()).catch(() => undefined);
        },
        (name, threads) => post({ type: 'backend', name, threads }),
      );
      let backend: InferenceBackend;
      try {
        backend = await s.backend;
      } catch (cause) {
        s.backend = undefined;
        const message = cause instanceof Error ? cause.message : String(cause);
        post({
          type: 'event',
          event: { type: 'run:error', runId, code: 'BACKEND_UNAVAILABLE', message: `onnxruntime-web: ${message}` },
        });
        if (keep) post({ type: 'values', runId, values: [] });
        return;
      }
      host.resetOutputs();
      currentRun = runId;
      const result = await executeGraph(
        graph,
        { registry, backend, host, cache, limits: { maxPixels: s.maxPixels } },
        { runId, signal: controller.signal, onEvent: (event) => void forward(runId, event) },
      );
      if (keep) {
        const kept: KeptValue[] = [];
        for (const node of keep) {
          for (const [port, value] of Object.entries(result.values.get(node) ?? {})) {
            if (isImage(value)) kept.push({ node, port, image: value });
          }
        }
        post({ type: 'values', runId, values: kept });
      }
    } finally {
      runs.delete(runId);
      if (currentRun === runId) currentRun = undefined;
    }
  }

  async function forward(runId: string, event: RunEvent): Promise<void> {
    if (event.type !== 'node:preview') {
      post({ type: 'event', event });
      return;
    }
    const { image } = event;
    const canvas = new OffscreenCanvas(image.width, image.height);
    canvas.getContext('2d')?.putImageData(new ImageData(planarToRgba(image), image.width, image.height), 0, 0);
    const png = await canvas.convertToBlob({ type: 'image/png' });
    post({ type: 'preview', runId, node: event.node, png, width: image.width, height: image.height });
  }
}

function isImage(value: unknown): value is ImageBuffer {
  return typeof value === 'object' && value !== null && (value as ImageBuffer).data instanceof Float32Array;
}

/**
 * WebGPU when asked for (or on 'auto' when the browser gives an adapter and WebGPU has not failed), else WASM;
 * WASM threads only when the page is cross-origin isolated (SharedArrayBuffer), at most 4 (more rarely helps and
 * starves the UI).
 */
async function createBackend(
  choice: BackendChoice,
  gpuBroken: boolean,
  onGpuBroken: () => void,
  report: (name: string, threads: number) => void,
): Promise<InferenceBackend> {
  const threads = self.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
  ort.env.wasm.numThreads = threads;
  let useGpu = false;
  if (choice === 'webgpu' || (choice === 'auto' && !gpuBroken)) {
    useGpu = (await navigator.gpu?.requestAdapter().catch(() => null)) != null;
    if (choice === 'webgpu' && !useGpu) throw new Error('WebGPU was chosen but this browser gives no WebGPU adapter');
  }
  const backend = createWebBackend(ort, { executionProviders: useGpu ? ['webgpu', 'wasm'] : ['wasm'] });
  report(backend.name, threads);
  if (!useGpu) return yieldingBackend(backend);
  // onnxruntime-web makes its GPUDevice when the first WebGPU session is created; the guard attaches to it then.
  const device = async () => (await ort.env.webgpu.device) as GPUDevice | undefined;
  return yieldingBackend(gpuGuardedBackend(backend, device, onGpuBroken));
}
