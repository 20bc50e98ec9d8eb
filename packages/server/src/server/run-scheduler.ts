import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunEvent } from '@coser/runtime';
import { CoserError, hasErrors, isCoserError } from '@coser/runtime';
import type { RunQueue } from './queue/run-queue';
import type { ExecuteOutcome, RunEngine } from './run-engine';
import { listFiles, relativiseOutputs } from './run-files';
import type { RunErrorInfo, RunRecord, RunStatus, SeqEvent, SubmitRequest } from './types';

/** Live events go to listeners: stored events with their `seq`, previews (not stored) without one. */
export type RunEventListener = (event: SeqEvent | Extract<RunEvent, { type: 'node:preview' }>) => void;

export interface SchedulerOptions {
  queue: RunQueue;
  engine: RunEngine;
  /** Run folders go under `runsDir/<id>/`. */
  runsDir: string;
  concurrency: number;
  queueCap: number;
  historyLimit: number;
  /** Least time between two previews of one run (ms); later ones replace a pending one. */
  previewIntervalMs?: number;
  log?: (message: string) => void;
}

interface ActiveRun {
  controller: AbortController;
  done: Promise<void>;
  /** Set when the abort came from a shutdown: the run becomes `interrupted`, not `cancelled`. */
  interrupted: boolean;
}

const INTERRUPTED_MESSAGE = 'the server stopped while the run was running';

/**
 * Moves runs from submit to a final state: validates before queueing, runs `concurrency` at a time, numbers and
 * stores events, tells listeners, and finishes every run it started with exactly one final event.
 */
export class RunScheduler {
  private readonly options: Required<Omit<SchedulerOptions, 'log'>> & Pick<SchedulerOptions, 'log'>;
  private readonly active = new Map<string, ActiveRun>();
  private readonly seqs = new Map<string, number>();
  private readonly listeners = new Set<RunEventListener>();
  private readonly lastPositions = new Map<string, number>();
  private readonly previewTimers = new Map<string, { last: number; timer?: NodeJS.Timeout }>();
  private readonly unannounced = new Set<string>();
  private accepting = true;
  private pumping = false;

  constructor(options: SchedulerOptions) {
    this.options = { previewIntervalMs: 250, ...options };
  }

  get queue(): RunQueue {
    return this.options.queue;
  }

  get isAccepting(): boolean {
    return this.accepting;
  }

  get runningCount(): number {
    return this.active.size;
  }

  addListener(listener: RunEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Recovers the queue (running -> interrupted) and starts the queued runs. */
  async start(): Promise<{ resumed: string[]; interrupted: string[] }> {
    const report = await this.options.queue.recover();
    // Resumed runs continue their event numbering.
    for (const id of report.resumed) this.seqs.set(id, await this.options.queue.lastSeq(id));
    this.pump();
    return report;
  }

  /**
   * Validates and queues a run. Throws CoserError (a validation code with `diagnostics` on the error's `cause`,
   * QUEUE_FULL, NOT_READY). `onAccepted` runs before any event of the run is sent (subscribe the submitter there).
   */
  async submit(
    owner: string,
    request: SubmitRequest,
    onAccepted?: (runId: string) => void,
  ): Promise<{ runId: string; position: number }> {
    if (!this.accepting) throw new CoserError('NOT_READY', 'the server is shutting down');
    const { graph, diagnostics } = await this.options.engine.prepare(request);
    if (!graph || hasErrors(diagnostics)) {
      const first = diagnostics.find((d) => d.severity === 'error');
      throw new CoserError(first?.code ?? 'GRAPH_INVALID', first?.message ?? 'the graph is invalid', first ?? {}, {
        cause: diagnostics,
      });
    }
    if (!this.accepting) throw new CoserError('NOT_READY', 'the server is shutting down');
    const runId = randomUUID();
    const { position } = await this.options.queue.enqueue(
      {
        id: runId,
        owner,
        name: graph.name,
        graph,
        inputs: request.inputs ?? {},
        set: request.set ?? {},
      },
      this.options.queueCap,
    );
    this.unannounced.add(runId);
    onAccepted?.(runId);
    // Deferred so the submitter's ack leaves before the run's first event.
    setImmediate(() => {
      // Not when it already started or was cancelled in between.
      if (!this.unannounced.delete(runId)) return;
      this.lastPositions.set(runId, position);
      this.emit({ type: 'run:queued', runId, position });
      this.pump();
    });
    return { runId, position };
  }

  /** Cancels a run of `owner`. Returns the status after the request (a final run is left as it is). */
  async cancel(owner: string, runId: string): Promise<RunStatus> {
    const record = await this.options.queue.get(runId);
    if (!record) throw new CoserError('RUN_NOT_FOUND', `no run ${runId}`);
    if (record.owner !== owner)
      throw new CoserError('UNAUTHORIZED', 'only the client that submitted a run may cancel it');
    if (record.status === 'queued' && (await this.options.queue.cancelQueued(runId))) {
      this.unannounced.delete(runId);
      this.emit({ type: 'run:cancelled', runId });
      this.seqs.delete(runId);
      this.lastPositions.delete(runId);
      void this.announcePositions();
      return 'cancelled';
    }
    const active = this.active.get(runId);
    if (active) {
      active.controller.abort(new CoserError('CANCELLED', 'cancelled by its client'));
      await active.done;
    }
    const after = await this.options.queue.get(runId);
    return after?.status ?? record.status;
  }

  /**
   * Stops accepting runs and waits up to `graceMs` for running ones; those still running are aborted and marked
   * `interrupted`. Queued runs stay queued for the next start.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.accepting = false;
    const running = [...this.active.values()];
    if (running.length > 0 && graceMs > 0) {
      await Promise.race([
        Promise.all(running.map((r) => r.done)),
        new Promise((resolve) => setTimeout(resolve, graceMs).unref()),
      ]);
    }
    for (const run of this.active.values()) {
      run.interrupted = true;
      run.controller.abort(new CoserError('CANCELLED', INTERRUPTED_MESSAGE));
    }
    await Promise.all([...this.active.values()].map((r) => r.done));
    for (const pending of this.previewTimers.values()) clearTimeout(pending.timer);
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    void (async () => {
      try {
        while (this.accepting && this.options.queue.isOpen && this.active.size < this.options.concurrency) {
          const record = await this.options.queue.claimNext();
          if (!record) break;
          this.startRun(record);
          await this.announcePositions();
        }
      } catch (error) {
        this.options.log?.(`queue error: ${String(error)}`);
      } finally {
        this.pumping = false;
      }
    })();
  }

  private startRun(record: RunRecord): void {
    const controller = new AbortController();
    const entry: ActiveRun = { controller, interrupted: false, done: Promise.resolve() };
    this.active.set(record.id, entry);
    this.unannounced.delete(record.id);
    this.lastPositions.delete(record.id);
    entry.done = this.execute(record, entry).finally(() => {
      this.active.delete(record.id);
      this.seqs.delete(record.id);
      this.pump();
    });
  }

  private async execute(record: RunRecord, entry: ActiveRun): Promise<void> {
    const runId = record.id;
    const outputDir = join(this.options.runsDir, runId);
    if (!this.seqs.has(runId)) this.seqs.set(runId, await this.options.queue.lastSeq(runId));
    let finalEvent: RunEvent | undefined;
    let outcome: ExecuteOutcome;
    try {
      await mkdir(outputDir, { recursive: true });
      outcome = await this.options.engine.execute({
        runId,
        graph: record.graph,
        outputDir,
        signal: entry.controller.signal,
        onEvent: (event) => {
          if (finalEvent) return;
          // The final event is held back until the run's record is complete, so a client that fetches the run on
          // seeing it finds the final status and files.
          if (event.type === 'run:done' || event.type === 'run:error' || event.type === 'run:cancelled') {
            finalEvent = event;
          } else if (event.type === 'node:preview') {
            this.emitPreview(event);
          } else {
            this.emit(event);
          }
        },
      });
    } catch (error) {
      outcome = {
        status: 'error',
        outputs: {},
        error: isCoserError(error)
          ? { code: error.code, message: error.message, ...(error.location.node ? { node: error.location.node } : {}) }
          : { code: 'INTERNAL', message: `internal error: ${String(error)}` },
      };
      if (!isCoserError(error)) this.options.log?.(`run ${runId} failed: ${String(error)}`);
    }
    const files = await listFiles(outputDir);
    const outputs = relativiseOutputs(outcome.outputs, outputDir);
    let status: RunStatus = outcome.status;
    let error: RunErrorInfo | undefined = outcome.error;
    if (entry.interrupted && status !== 'done') {
      status = 'interrupted';
      error = { code: 'CANCELLED', message: INTERRUPTED_MESSAGE };
      finalEvent = { type: 'run:error', runId, code: 'CANCELLED', message: INTERRUPTED_MESSAGE };
    } else if (status === 'error' && !error) {
      error = { code: 'INTERNAL', message: 'the run failed without a reason' };
    }
    if (status === 'done') finalEvent = { type: 'run:done', runId, ms: finalMs(finalEvent, record), outputs };
    finalEvent ??=
      status === 'cancelled'
        ? { type: 'run:cancelled', runId }
        : { type: 'run:error', runId, code: error?.code ?? 'INTERNAL', message: error?.message ?? 'failed' };
    if (!this.options.queue.isOpen) return;
    await this.options.queue.complete(runId, {
      status: status as Exclude<RunStatus, 'queued' | 'running'>,
      ...(error ? { error } : {}),
      outputs,
      files,
    });
    const timer = this.previewTimers.get(runId);
    clearTimeout(timer?.timer);
    this.previewTimers.delete(runId);
    this.emit(finalEvent);
    await this.pruneHistory();
  }

  private emit(event: RunEvent): void {
    const seq = (this.seqs.get(event.runId) ?? 0) + 1;
    this.seqs.set(event.runId, seq);
    const stored = { ...event, seq } as SeqEvent;
    this.options.queue.appendEvent(event.runId, stored).catch((error: unknown) => {
      this.options.log?.(`could not store an event of run ${event.runId}: ${String(error)}`);
    });
    this.notify(stored);
  }

  private notify(event: SeqEvent | Extract<RunEvent, { type: 'node:preview' }>): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.options.log?.(`event listener failed: ${String(error)}`);
      }
    }
  }

  /** Previews are large and only worth showing live: at most one per interval per run, the newest wins. */
  private emitPreview(event: Extract<RunEvent, { type: 'node:preview' }>): void {
    const state = this.previewTimers.get(event.runId) ?? { last: 0 };
    this.previewTimers.set(event.runId, state);
    clearTimeout(state.timer);
    const wait = state.last + this.options.previewIntervalMs - Date.now();
    if (wait <= 0) {
      state.last = Date.now();
      this.notify(event);
      return;
    }
    state.timer = setTimeout(() => {
      state.last = Date.now();
      state.timer = undefined;
      if (this.active.has(event.runId)) this.notify(event);
    }, wait);
  }

  private async announcePositions(): Promise<void> {
    if (!this.options.queue.isOpen) return;
    const ids = await this.options.queue.queuedIds();
    ids.forEach((runId, index) => {
      const position = index + 1;
      if (this.lastPositions.get(runId) === position) return;
      this.lastPositions.set(runId, position);
      this.emit({ type: 'run:queued', runId, position });
    });
  }

  private async pruneHistory(): Promise<void> {
    const removed = await this.options.queue.prune(this.options.historyLimit);
    for (const id of removed) await rm(join(this.options.runsDir, id), { recursive: true, force: true });
  }
}

function finalMs(event: RunEvent | undefined, record: RunRecord): number {
  if (event?.type === 'run:done') return event.ms;
  return record.startedAt ? Date.now() - record.startedAt : 0;
}
