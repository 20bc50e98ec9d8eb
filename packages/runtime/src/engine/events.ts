import type { ErrorCode } from '../errors';
import type { ImageBuffer } from '../image/image-buffer';

/**
 * A JSON-safe summary of a node's output value, reported in `run:done`. Images and files carry the image's `notes`
 * (`ImageMeta.notes`: what a viewer must know about how it was made) when it has any.
 */
export type OutputSummary =
  | { kind: 'image'; width: number; height: number; channels: number; notes?: string[] }
  | { kind: 'file'; path: string; format?: string; width?: number; height?: number; notes?: string[] }
  | { kind: 'number'; value: number }
  | { kind: 'text'; value: string }
  | { kind: 'metrics'; values: Record<string, number> }
  | { kind: 'tensor'; dims: number[] }
  | { kind: 'other'; description: string };

/** node id -> output port -> summary, for every output node of the graph. */
export type RunOutputs = Record<string, Record<string, OutputSummary>>;

/**
 * The one event union for every way of running: the CLI (`--json` prints these as NDJSON), socket.io and the
 * editor's worker. Events are plain data (previews hold a typed array) so they cross every boundary unchanged.
 */
export type RunEvent =
  | { type: 'run:queued'; runId: string; position: number }
  | { type: 'run:started'; runId: string; nodes: string[] }
  | { type: 'node:started'; runId: string; node: string }
  | { type: 'node:progress'; runId: string; node: string; value: number; max: number; label?: string }
  | { type: 'node:preview'; runId: string; node: string; image: ImageBuffer }
  | { type: 'node:done'; runId: string; node: string; ms: number; cached: boolean }
  | { type: 'node:error'; runId: string; node: string; port?: string; code: ErrorCode; message: string }
  | { type: 'run:done'; runId: string; ms: number; outputs: RunOutputs }
  | { type: 'run:error'; runId: string; code: ErrorCode; message: string; node?: string }
  | { type: 'run:cancelled'; runId: string; node?: string };

export type RunEventType = RunEvent['type'];

/** Events that end a run; after one of these no more events of that run follow. */
export function isFinalEvent(event: RunEvent): boolean {
  return event.type === 'run:done' || event.type === 'run:error' || event.type === 'run:cancelled';
}
