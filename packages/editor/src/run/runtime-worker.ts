import type { CatalogEntry, Diagnostic, GraphFile } from '@coser/runtime';
import type { PickedModel } from '../worker/model-loader';
import type { BackendChoice, FromWorker, KeptValue, StaticInfoMap, ToWorker } from '../worker/protocol';
import { type ModelList, type RunClient, RunRefused, safeFileName } from './run-client';
import type { UiRunEvent } from './run-state';

export interface WorkerSettings {
  modelsBaseUrl: string;
  token?: string;
  backend: BackendChoice;
}

export interface Analysis {
  diagnostics: Diagnostic[];
  staticInfo: StaticInfoMap;
}

/**
 * The UI's handle on the runtime worker: the node catalog, validation + static info, uploads and local runs.
 * One per page; `createLocalRunClient` wraps it as a RunClient.
 */
export class RuntimeWorker {
  readonly catalog: Promise<CatalogEntry[]>;
  /** e.g. `onnxruntime-web/wasm · 2 threads`, once the first run created the backend. */
  backendLabel = '';
  private readonly worker: Worker;
  private readonly listeners = new Set<(event: UiRunEvent) => void>();
  private readonly valueListeners = new Set<(runId: string, values: KeptValue[]) => void>();
  private readonly requests = new Map<number, (message: FromWorker) => void>();
  private nextRequest = 1;
  private readonly uploadNames = new Map<string, number>();

  constructor(settings: WorkerSettings, workerFactory: () => Worker = defaultWorker) {
    this.worker = workerFactory();
    let resolveCatalog!: (catalog: CatalogEntry[]) => void;
    let rejectCatalog!: (error: Error) => void;
    this.catalog = new Promise((resolve, reject) => {
      resolveCatalog = resolve;
      rejectCatalog = reject;
    });
    this.worker.onerror = (event) => rejectCatalog(new Error(`the runtime worker failed to start: ${event.message}`));
    this.worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      switch (message.type) {
        case 'ready':
          resolveCatalog(message.catalog);
          break;
        case 'backend':
          this.backendLabel = `${message.name} · ${message.threads} thread${message.threads === 1 ? '' : 's'}`;
          break;
        case 'analysis':
        case 'models':
        case 'model-file':
          this.requests.get(message.requestId)?.(message);
          this.requests.delete(message.requestId);
          break;
        case 'event':
          this.emit(message.event);
          break;
        case 'preview':
          this.emit({
            type: 'node:preview',
            runId: message.runId,
            node: message.node,
            url: URL.createObjectURL(message.png),
            width: message.width,
            height: message.height,
          });
          break;
        case 'file':
          this.emit({
            type: 'run:file',
            runId: message.runId,
            file: {
              name: message.name,
              url: URL.createObjectURL(message.blob),
              bytes: message.blob.size,
              mime: message.blob.type,
            },
          });
          break;
        case 'values':
          for (const listener of this.valueListeners) listener(message.runId, message.values);
          break;
        case 'fatal':
          console.error('runtime worker:', message.message);
          break;
      }
    };
    this.configure(settings);
  }

  configure(settings: WorkerSettings): void {
    this.send({
      type: 'init',
      modelsBaseUrl: settings.modelsBaseUrl,
      backend: settings.backend,
      ...(settings.token ? { token: settings.token } : {}),
    });
  }

  async analyze(graph: GraphFile): Promise<Analysis> {
    const reply = await this.request((requestId) => ({ type: 'analyze', requestId, graph }));
    return reply.type === 'analysis' ? reply : { diagnostics: [], staticInfo: {} };
  }

  async listModels(): Promise<ModelList> {
    const reply = await this.request((requestId) => ({ type: 'list-models', requestId }));
    if (reply.type !== 'models') return { models: [] };
    return { models: reply.models, ...(reply.problem ? { problem: reply.problem } : {}) };
  }

  /** The server's models changed (an install): the worker lists them again before its next run or listing. */
  refreshModels(): void {
    this.send({ type: 'refresh-models' });
  }

  /** Opens a CoSeR model-set folder on this device: its files stay handles until a stage reads them. */
  addModelSet(name: string, files: File[]): void {
    this.send({ type: 'model-set', name, files });
  }

  /** Keeps an image in the worker under a stable id (`uploads/NAME`, numbered when the name repeats). */
  upload(name: string, bytes: Uint8Array): string {
    const safe = safeFileName(name);
    const count = (this.uploadNames.get(safe) ?? 0) + 1;
    this.uploadNames.set(safe, count);
    const id = count === 1 ? `uploads/${safe}` : `uploads/${count}-${safe}`;
    this.send({ type: 'upload', id, bytes });
    return id;
  }

  /** Re-sends an upload under a known id (restoring a session after a reload); later names do not reuse it. */
  restoreUpload(id: string, bytes: Uint8Array): void {
    const match = /^uploads\/(?:(\d+)-)?(.+)$/.exec(id);
    if (match?.[2]) {
      const count = match[1] ? Number(match[1]) : 1;
      this.uploadNames.set(match[2], Math.max(count, this.uploadNames.get(match[2]) ?? 0));
    }
    this.send({ type: 'upload', id, bytes });
  }

  /** A model file picked for the model `name`: resolves with what it runs as (see `ModelLoader.adoptPickedFile`). */
  async addModelFile(name: string, fileName: string, bytes: Uint8Array): Promise<PickedModel> {
    const reply = await this.request((requestId) => ({ type: 'model-file', requestId, name, fileName, bytes }));
    if (reply.type !== 'model-file') throw new Error('the runtime worker did not take the model file');
    return reply.result;
  }

  run(runId: string, graph: GraphFile, keep?: string[]): void {
    this.send({ type: 'run', runId, graph, ...(keep ? { keep } : {}) });
  }

  cancel(runId: string): void {
    this.send({ type: 'cancel', runId });
  }

  subscribe(listener: (event: UiRunEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Kept image outputs of runs started with `keep`. */
  onValues(listener: (runId: string, values: KeptValue[]) => void): () => void {
    this.valueListeners.add(listener);
    return () => this.valueListeners.delete(listener);
  }

  terminate(): void {
    this.worker.terminate();
  }

  private emit(event: UiRunEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private request(make: (requestId: number) => ToWorker): Promise<FromWorker> {
    const requestId = this.nextRequest++;
    return new Promise<FromWorker>((resolve) => {
      this.requests.set(requestId, resolve);
      this.send(make(requestId));
    });
  }

  private send(message: ToWorker): void {
    this.worker.postMessage(message);
  }
}

function defaultWorker(): Worker {
  return new Worker(new URL('../worker/coser-worker.ts', import.meta.url), { type: 'module', name: 'coser-runtime' });
}

/** Runs graphs in this browser through the runtime worker. */
export function createLocalRunClient(worker: RuntimeWorker): RunClient {
  return {
    target: 'local',
    async submit(graph) {
      const runId = crypto.randomUUID();
      const { diagnostics } = await worker.analyze(graph);
      const errors = diagnostics.filter((d) => d.severity === 'error');
      if (errors.length > 0) {
        throw new RunRefused(errors[0]!.code, `the graph is not valid: ${errors[0]!.message}`, diagnostics);
      }
      worker.run(runId, graph);
      return runId;
    },
    async cancel(runId) {
      worker.cancel(runId);
    },
    subscribe: (listener) => worker.subscribe(listener),
    async uploadImage(name, bytes) {
      return worker.upload(name, bytes);
    },
    listModels: () => worker.listModels(),
    dispose() {},
  };
}
