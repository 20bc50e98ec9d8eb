import type { Diagnostic, ErrorCode, GraphFile, RunEvent, RunOutputs } from '@coser/runtime';

/** Where a run stands. `interrupted`: it was running when the server stopped; it is never turned into `done`. */
export type RunStatus = 'queued' | 'running' | 'done' | 'error' | 'cancelled' | 'interrupted';

export const RUN_STATUSES: readonly RunStatus[] = ['queued', 'running', 'done', 'error', 'cancelled', 'interrupted'];

export const FINAL_STATUSES: ReadonlySet<RunStatus> = new Set(['done', 'error', 'cancelled', 'interrupted']);

/** Why a run failed, as stored and as sent to clients. */
export interface RunErrorInfo {
  code: ErrorCode;
  message: string;
  node?: string;
}

/**
 * A stored event: a `RunEvent` plus its per-run sequence number (1, 2, 3...), so that a client that resubscribes
 * after a reconnect can skip what it already has.
 */
export type SeqEvent = RunEvent & { seq: number };

/** One output file of a run, relative to its run folder. */
export interface RunFile {
  name: string;
  bytes: number;
}

/** A run as the queue stores it. */
export interface RunRecord {
  id: string;
  /** sha256(token + "\n" + clientKey): never sent to clients. */
  owner: string;
  name: string;
  status: RunStatus;
  graph: GraphFile;
  inputs: Record<string, unknown>;
  set: Record<string, unknown>;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  error?: RunErrorInfo;
  outputs?: RunOutputs;
  files?: RunFile[];
}

/** What a client submits, over socket.io (`run:submit`) or REST (`POST /api/runs`). */
export interface SubmitRequest {
  /** The graph file, as a parsed value or as JSON text. */
  graph: unknown;
  /** Graph input name -> value (an upload name for Load Image paths). */
  inputs?: Record<string, unknown>;
  /** `node.param` -> value. */
  set?: Record<string, unknown>;
}

/** A graph refused at submit: never queued. */
export interface SubmitRejection {
  code: ErrorCode;
  message: string;
  diagnostics: Diagnostic[];
}
