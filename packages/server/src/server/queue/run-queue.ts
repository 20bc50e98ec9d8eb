import type { RunOutputs } from '@coser/runtime';
import type { RunErrorInfo, RunFile, RunRecord, RunStatus, SeqEvent } from '../types';

/** A run to add to the queue. */
export interface NewRun {
  id: string;
  owner: string;
  name: string;
  graph: RunRecord['graph'];
  inputs: Record<string, unknown>;
  set: Record<string, unknown>;
}

/** How a run ended. */
export interface RunCompletion {
  status: Extract<RunStatus, 'done' | 'error' | 'cancelled' | 'interrupted'>;
  error?: RunErrorInfo;
  outputs?: RunOutputs;
  files?: RunFile[];
}

/** History search; every field optional. */
export interface RunQuery {
  statuses?: readonly RunStatus[];
  /** Case-insensitive substring of the run's (graph's) name. */
  name?: string;
  owner?: string;
  /** At most this many (default 50, at most 500). */
  limit?: number;
  /** A cursor from a previous page: runs older than it. */
  before?: number;
}

export interface RunPage {
  runs: RunRecord[];
  /** Pass as `before` for the next page; absent on the last page. */
  next?: number;
}

/** What `recover` did when the queue was opened. */
export interface RecoveryReport {
  /** Queued runs that will resume, oldest first. */
  resumed: string[];
  /** Runs that were running when the server stopped, now `interrupted`. */
  interrupted: string[];
}

/**
 * The run queue and history. The server only talks to this interface: the SQLite implementation serves one
 * process; a Redis/BullMQ one can replace it for several workers. Every method is async for that reason.
 *
 * Invariants an implementation keeps: `claimNext` hands each queued run to exactly one caller, oldest first; a run
 * leaves `running` only through `complete`; `recover` never turns a run into `done`.
 */
export interface RunQueue {
  /** Marks runs left `running` by a previous process `interrupted` and lists the queued runs that resume. */
  recover(): Promise<RecoveryReport>;
  /** Adds a run, `queued`. Throws CoserError QUEUE_FULL when `cap` runs already wait. Returns its 1-based position. */
  enqueue(run: NewRun, cap: number): Promise<{ record: RunRecord; position: number }>;
  /** Moves the oldest queued run to `running` and returns it. */
  claimNext(): Promise<RunRecord | undefined>;
  /** Ends a running (or queued) run. */
  complete(id: string, completion: RunCompletion): Promise<void>;
  /** Cancels a run only if it is still queued (atomic); false when it already started or ended. */
  cancelQueued(id: string): Promise<boolean>;
  get(id: string): Promise<RunRecord | undefined>;
  list(query: RunQuery): Promise<RunPage>;
  /** Ids of queued runs, oldest (next to run) first. */
  queuedIds(): Promise<string[]>;
  counts(): Promise<{ queued: number; running: number }>;
  /** Stores an event for replay (bounded per run; final events are always kept). */
  appendEvent(id: string, event: SeqEvent): Promise<void>;
  /** Stored events with `seq > after`, in order. */
  events(id: string, after?: number): Promise<SeqEvent[]>;
  /** The highest stored `seq` of a run (0 when none). */
  lastSeq(id: string): Promise<number>;
  /** Deletes the oldest finished runs beyond `keep`; returns their ids (the caller removes their folders). */
  prune(keep: number): Promise<string[]>;
  readonly isOpen: boolean;
  close(): Promise<void>;
}
