import { randomUUID } from 'node:crypto';
import type { RunEvent } from '@coser/runtime';
import { CoserError, hasErrors } from '@coser/runtime';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RunEngine } from '../server/run-engine';
import { type RunEventListener, RunScheduler } from '../server/run-scheduler';
import { FINAL_STATUSES, type RunStatus, type SeqEvent, type SubmitRequest } from '../server/types';
import { addRunJob, SCALE_DEFAULTS } from './jobs';
import type { RedisRunQueue } from './redis-run-queue';

export interface DistributedSchedulerOptions {
  queue: RedisRunQueue;
  jobs: Queue;
  /** Validates submissions (`prepare`); its `execute` is never called: workers execute. */
  engine: RunEngine;
  runsDir: string;
  queueCap: number;
  historyLimit: number;
  maxAttempts?: number;
  /** How long `cancel` of a running run waits for the worker to stop it (default 30 s). */
  cancelWaitMs?: number;
  log?: (message: string) => void;
}

type Preview = Extract<RunEvent, { type: 'node:preview' }>;
type WirePreview = Omit<Preview, 'image'> & {
  image: { width: number; height: number; channels: 1 | 3 | 4; data: string };
};

/**
 * The scheduler of `coser serve --redis`: validates and queues runs in Redis, hands them to workers as BullMQ jobs,
 * and relays every run's events from Redis to this server's listeners (socket.io). It extends the local
 * `RunScheduler` only to plug into the same routes; it executes nothing itself.
 *
 * Every server subscribes to every event, so a client connected to any server behind a load balancer sees its
 * runs' events once, without the socket.io Redis adapter.
 */
export class DistributedScheduler extends RunScheduler {
  private readonly scale: Required<Omit<DistributedSchedulerOptions, 'log'>> & Pick<DistributedSchedulerOptions, 'log'>;
  private readonly relays = new Set<RunEventListener>();
  private readonly finals = new Map<string, Set<(status: RunStatus) => void>>();
  private subscriber: Redis | undefined;
  private open = true;

  constructor(options: DistributedSchedulerOptions) {
    super({
      queue: options.queue,
      engine: options.engine,
      runsDir: options.runsDir,
      concurrency: 1,
      queueCap: options.queueCap,
      historyLimit: options.historyLimit,
      ...(options.log ? { log: options.log } : {}),
    });
    this.scale = { maxAttempts: SCALE_DEFAULTS.maxAttempts, cancelWaitMs: 30_000, ...options };
  }

  override get isAccepting(): boolean {
    return this.open;
  }

  override addListener(listener: RunEventListener): () => void {
    this.relays.add(listener);
    return () => this.relays.delete(listener);
  }

  /** Subscribes to the events channel and re-adds jobs of queued runs that lost theirs (a crash between the two). */
  override async start(): Promise<{ resumed: string[]; interrupted: string[] }> {
    const { queue, jobs } = this.scale;
    this.subscriber = await queue.duplicate();
    this.subscriber.on('message', (_channel: string, text: string) => this.relay(text));
    await this.subscriber.subscribe(queue.eventsChannel);
    const report = await queue.recover();
    for (const id of report.resumed) {
      if (!(await jobs.getJob(id))) await addRunJob(jobs, id, this.scale.maxAttempts);
    }
    return report;
  }

  override async submit(
    owner: string,
    request: SubmitRequest,
    onAccepted?: (runId: string) => void,
  ): Promise<{ runId: string; position: number }> {
    if (!this.open) throw new CoserError('NOT_READY', 'the server is shutting down');
    const { graph, diagnostics } = await this.scale.engine.prepare(request);
    if (!graph || hasErrors(diagnostics)) {
      const first = diagnostics.find((d) => d.severity === 'error');
      throw new CoserError(first?.code ?? 'GRAPH_INVALID', first?.message ?? 'the graph is invalid', first ?? {}, {
        cause: diagnostics,
      });
    }
    const runId = randomUUID();
    const { position } = await this.scale.queue.enqueue(
      { id: runId, owner, name: graph.name, graph, inputs: request.inputs ?? {}, set: request.set ?? {} },
      this.scale.queueCap,
    );
    onAccepted?.(runId);
    try {
      // Published before the job exists, so `run:queued` is always the run's first event.
      await this.scale.queue.publishEvent({ type: 'run:queued', runId, position });
      await addRunJob(this.scale.jobs, runId, this.scale.maxAttempts);
    } catch (error) {
      // The client hears "refused": the run must not start later by surprise. Should Redis be gone for this too,
      // the next server start re-adds the job instead (the run then runs after all).
      const message = 'the run could not be handed to the workers';
      await this.scale.queue
        .finish(runId, { status: 'error', error: { code: 'NOT_READY', message } }, { onlyIfQueued: true })
        .catch(() => false);
      throw error;
    }
    return { runId, position };
  }

  override async cancel(owner: string, runId: string): Promise<RunStatus> {
    const { queue, jobs } = this.scale;
    const record = await queue.get(runId);
    if (!record) throw new CoserError('RUN_NOT_FOUND', `no run ${runId}`);
    if (record.owner !== owner) {
      throw new CoserError('UNAUTHORIZED', 'only the client that submitted a run may cancel it');
    }
    if (FINAL_STATUSES.has(record.status)) return record.status;
    if (record.status === 'queued') {
      const cancelled = await queue.finish(
        runId,
        { status: 'cancelled' },
        { onlyIfQueued: true, finalEvent: { type: 'run:cancelled', runId } },
      );
      if (cancelled) {
        // A worker that takes the job in between finds the run cancelled and skips it.
        await jobs.remove(runId).catch(() => 0);
        return 'cancelled';
      }
    }
    // Running on some worker: ask it through Redis and wait for the final event.
    const ended = this.waitForFinal(runId, this.scale.cancelWaitMs);
    await queue.requestCancel(runId);
    const now = await queue.get(runId);
    if (now && FINAL_STATUSES.has(now.status)) return now.status;
    return (await ended) ?? (await queue.get(runId))?.status ?? record.status;
  }

  /** Stops accepting runs. Running runs go on on their workers; nothing here is interrupted. */
  override async shutdown(_graceMs: number): Promise<void> {
    this.open = false;
    if (this.subscriber) await this.subscriber.quit().catch(() => this.subscriber?.disconnect());
    await this.scale.jobs.close().catch(() => {});
    for (const waiters of this.finals.values()) for (const wake of waiters) wake('running');
  }

  private waitForFinal(runId: string, timeoutMs: number): Promise<RunStatus | undefined> {
    return new Promise((resolve) => {
      const waiters = this.finals.get(runId) ?? new Set();
      this.finals.set(runId, waiters);
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const done = (status: RunStatus | undefined) => {
        clearTimeout(timer);
        waiters.delete(wake);
        if (waiters.size === 0) this.finals.delete(runId);
        resolve(status);
      };
      const wake = (status: RunStatus) => done(status);
      waiters.add(wake);
    });
  }

  private relay(text: string): void {
    let event: SeqEvent | Preview;
    try {
      const parsed = JSON.parse(text) as SeqEvent | WirePreview;
      event = parsed.type === 'node:preview' ? fromWire(parsed as WirePreview) : (parsed as SeqEvent);
    } catch (error) {
      this.scale.log?.(`unreadable event from Redis: ${String(error)}`);
      return;
    }
    if (event.type === 'run:done' || event.type === 'run:error' || event.type === 'run:cancelled') {
      const status: RunStatus =
        event.type === 'run:done' ? 'done' : event.type === 'run:cancelled' ? 'cancelled' : 'error';
      for (const wake of [...(this.finals.get(event.runId) ?? [])]) wake(status);
    }
    for (const listener of this.relays) {
      try {
        listener(event);
      } catch (error) {
        this.scale.log?.(`event listener failed: ${String(error)}`);
      }
    }
  }
}

function fromWire(wire: WirePreview): Preview {
  const bytes = Buffer.from(wire.image.data, 'base64');
  // Copied into a fresh, aligned buffer: a Buffer's offset into its pool need not be a multiple of 4.
  const data = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(data.buffer).set(bytes);
  return {
    ...wire,
    image: { width: wire.image.width, height: wire.image.height, channels: wire.image.channels, data },
  };
}
