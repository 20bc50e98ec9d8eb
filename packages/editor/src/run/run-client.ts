import type { Diagnostic, GraphFile } from '@coser/runtime';
import type { ModelListing } from '../worker/model-loader';
import type { UiRunEvent } from './run-state';

/** A run the target refused before starting it (invalid graph, queue full, not connected). */
export class RunRefused extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly diagnostics: Diagnostic[] = [],
  ) {
    super(message);
    this.name = 'RunRefused';
  }
}

/** The models a target offers, and why the list is short when it is (the server refused the token, say). */
export interface ModelList {
  models: ModelListing[];
  problem?: { code: string; message: string };
}

/**
 * Where graphs run: this browser (the worker) or a `coser serve` server. The UI drives both through this one
 * interface, so progress, previews, cancel and results look the same.
 */
export interface RunClient {
  readonly target: 'local' | 'server';
  /** Starts a run; resolves with its id once accepted. Rejects with RunRefused. */
  submit(graph: GraphFile): Promise<string>;
  cancel(runId: string): Promise<void>;
  /** Every event of runs this client started or resumed. */
  subscribe(listener: (event: UiRunEvent) => void): () => void;
  /** Makes an image available to runs; resolves with the value for Load Image's `path` param. */
  uploadImage(name: string, bytes: Uint8Array): Promise<string>;
  listModels(): Promise<ModelList>;
  dispose(): void;
}

/** A file name safe to use as an upload id: letters, digits, `.`, `_`, `-`. */
export function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? 'image';
  const cleaned = base.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '');
  return cleaned.slice(-100) || 'image';
}
