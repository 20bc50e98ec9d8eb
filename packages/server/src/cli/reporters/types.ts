import type { Diagnostic, RunEvent, RunOutputs } from '@coser/runtime';
import type { RunItem } from '../run-inputs';

/** How one run of a batch ended, as the run command records it for the final report. */
export interface ItemOutcome {
  readonly item: RunItem;
  readonly status: 'done' | 'error' | 'cancelled';
  readonly runId?: string;
  readonly ms?: number;
  readonly outputs: RunOutputs;
  /** For a failed run: the error's code, message and node (from `run:error`, or the first check diagnostic). */
  readonly error?: { code: string; message: string; node?: string };
  /** Check diagnostics when the run never started because the graph did not check out for this input. */
  readonly diagnostics?: readonly Diagnostic[];
}

/**
 * Shows a `coser run` as it happens. One reporter serves a whole batch: `beginItem` before each run, every
 * RunEvent of that run, then `endItem`; `finish` once at the end prints the outputs and failures.
 */
export interface RunReporter {
  beginItem(item: RunItem, index: number, total: number): void;
  onEvent(event: RunEvent): void;
  /** Diagnostics of `checkGraph` for one item (printed whether or not they stop the run). */
  onDiagnostics(item: RunItem, diagnostics: readonly Diagnostic[]): void;
  endItem(outcome: ItemOutcome): void;
  finish(outcomes: readonly ItemOutcome[]): void;
}

/** Where a reporter writes: stdout for results, stderr for progress (so `> file` keeps only results). */
export interface ReporterStreams {
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WritableStream;
}
