import type { CatalogEntry, Diagnostic, GraphFile, ImageBuffer, RunEvent, StaticInfo } from '@coser/runtime';
import type { ModelListing, PickedModel } from './model-loader';

/** Which onnxruntime-web execution provider local runs use. */
export type BackendChoice = 'auto' | 'webgpu' | 'wasm';

/** Messages from the UI to the runtime worker. */
export type ToWorker =
  | { type: 'init'; modelsBaseUrl: string; token?: string; backend: BackendChoice; maxPixels?: number }
  | { type: 'analyze'; requestId: number; graph: GraphFile }
  | { type: 'upload'; id: string; bytes: Uint8Array }
  /** A model file picked for the model `name`; answered with `model-file` (what it runs as). */
  | { type: 'model-file'; requestId: number; name: string; fileName: string; bytes: Uint8Array }
  /** A CoSeR model-set folder opened on this device (its top-level files). */
  | { type: 'model-set'; name: string; files: File[] }
  | { type: 'list-models'; requestId: number }
  /** The server's models changed (an install): list them again. */
  | { type: 'refresh-models' }
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
  /** `problem`: why only the built-in catalogue is listed (e.g. UNAUTHORIZED). */
  | { type: 'models'; requestId: number; models: ModelListing[]; problem?: { code: string; message: string } }
  | { type: 'model-file'; requestId: number; result: PickedModel }
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
