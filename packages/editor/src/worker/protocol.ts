import type { CatalogEntry, Diagnostic, GraphFile, ImageBuffer, RunEvent, StaticInfo } from '@coser/runtime';
import type { ModelListing } from './model-loader';

/** Which onnxruntime-web execution provider local runs use. */
export type BackendChoice = 'auto' | 'webgpu' | 'wasm';

/** Messages from the UI to the runtime worker. */
export type ToWorker =
  | { type: 'init'; modelsBaseUrl: string; token?: string; backend: BackendChoice; maxPixels?: number }
  | { type: 'analyze'; requestId: number; graph: GraphFile }
  | { type: 'upload'; id: string; bytes: Uint8Array }
  | { type: 'model-file'; name: string; bytes: Uint8Array }
  | { type: 'list-models'; requestId: number }
  /** `keep` lists node ids whose image outputs are posted back as float data (comparisons, tests). */
  | { type: 'run'; runId: string; graph: GraphFile; keep?: string[] }
  | { type: 'cancel'; runId: string };

/** Static output info per node and port, as the canvas shows it under each output handle. */
export type StaticInfoMap = Record<string, Record<string, StaticInfo>>;

/** Messages from the runtime worker to the UI. */
export type FromWorker =
  | { type: 'ready'; catalog: CatalogEntry[] }
  | { type: 'backend'; name: string; threads: number }
  | { type: 'analysis'; requestId: number; diagnostics: Diagnostic[]; staticInfo: StaticInfoMap }
  | { type: 'models'; requestId: number; models: ModelListing[] }
  | { type: 'event'; event: Exclude<RunEvent, { type: 'node:preview' }> }
  | { type: 'preview'; runId: string; node: string; png: Blob; width: number; height: number }
  | { type: 'file'; runId: string; name: string; blob: Blob }
  /** After a run with `keep`: the kept nodes' image outputs (empty when the run failed). */
  | { type: 'values'; runId: string; values: KeptValue[] }
  | { type: 'fatal'; message: string };

export interface KeptValue {
  node: string;
  port: string;
  image: ImageBuffer;
}
