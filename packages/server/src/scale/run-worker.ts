import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { RunEvent, RuntimeLimits } from '@coser/runtime';
import { CoserError, DEFAULT_LIMITS, toRunError } from '@coser/runtime';
import { type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ExecuteOutcome, RunExecutor } from '../server/run-engine';
import { relativiseOutputs } from '../server/run-files';
import type { RunErrorInfo, RunStatus } from '../server/types';
import { type BlobStore, SharedFolderStore } from './blob-store';
import { bullConnection, RUN_JOBS_QUEUE, SCALE_DEFAULTS } from './jobs';
import { RedisRunQueue } from './redis-run-queue';

export interface RunWorkerOptions {
  redisUrl: string;
  /** The shared folder (uploads in, run outputs out); the same one the servers use as `--data`. */
  dataDir: string;
  /** Installed models on this machine (default: the engine's default). */
  modelsDir?: string;
  /** Runs at a time on this worker (default 1). */
  concurrency?: number;
  /** See SCALE_DEFAULTS.lockDurationMs; also the stalled-check interval. */
  lockDurationMs?: number;
  /** See SCALE_DEFAULTS.maxAttempts. */
  maxAttempts?: number;
  /** Finished runs kept in history (default 1000); workers prune as they finish runs. */
  historyLimit?: number;
  limits?: Partial<RuntimeLimits>;
  /** Redis key prefix (default `coser`). */
  prefix?: string;
  /** Default: the local engine's executor (createLocalEnvironment + executeGraph). */
  executor?: RunExecutor;
  /** Default: a SharedFolderStore on `dataDir`. */
  store?: BlobStore;
  /** Least time between two previews of one run (default 250 ms); previews in between are dropped. */
  previewIntervalMs?: number;
  log?: (message: string) => void;
}

/** A started worker. */
export interface RunWorker {
  /** `host:pid:random`, recorded in logs. */
  readonly id: string;
  /** Runs executing now. */
  readonly running: number;
  /** Stops taking runs and waits for the running ones (`force`: leave them; another worker retries them). */
  close(options?: { force?: boolean }): Promise<void>;
}

interface ActiveAttempt {
  controller: AbortController;
}

/**
 * Takes runs from the BullMQ queue and executes them with the same executor as the local engine, on any machine
 * that reaches Redis and the shared folder. Events go back through Redis (numbered, stored, published), outputs
 * through the BlobStore (staged, committed once), and cancel requests arrive on a Redis channel.
 *
 * @example
 * const worker = await startRunWorker({ redisUrl: 'redis://10.0.0.5:6379', dataDir: '/mnt/coser' });
 * process.on('SIGTERM', () => void worker.close());
 */
export async function startRunWorker(options: RunWorkerOptions): Promise<RunWorker> {
  const log = options.log ?? ((message: string) => console.error(`[coser worker] ${message}`));
  const id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const store = options.store ?? new SharedFolderStore(options.dataDir);
  const maxAttempts = options.maxAttempts ?? SCALE_DEFAULTS.maxAttempts;
  const lockDuration = options.lockDurationMs ?? SCALE_DEFAULTS.lockDurationMs;
  const previewInterval = options.previewIntervalMs ?? 250;
  const historyLimit = options.historyLimit ?? 1000;
  const queue = new RedisRunQueue({ url: options.redisUrl, ...(options.prefix ? { prefix: options.prefix } : {}) });
  await queue.connect();
  const executor = options.executor ?? (await defaultExecutor(options, store));
  const active = new Map<string, ActiveAttempt>();

  const subscriber: Redis = await queue.duplicate();
  subscriber.on('message', (_channel: string, runId: string) => {
    active.get(runId)?.controller.abort(new CoserError('CANCELLED', 'cancelled by its client'));
  });
  await subscriber.subscribe(queue.cancelChannel);

  async function processJob(job: Job<{ runId: string }>): Promise<RunStatus | 'skipped'> {
    const runId = job.data.runId;
    const token = `${id}:${randomUUID()}`;
    const claim = await queue.claim(runId, token, maxAttempts);
    if (claim.outcome === 'missing' || claim.outcome === 'final') return 'skipped';
    if (claim.outcome === 'exhausted') {
      const message = `the run's worker stopped ${maxAttempts} time(s) before it finished (killed, crashed or out of memory); not retried again`;
      await queue.finish(
        runId,
        { status: 'error', error: { code: 'INTERNAL', message } },
        { finalEvent: { type: 'run:error', runId, code: 'INTERNAL', message } },
      );
      log(`run ${runId} failed: ${message}`);
      return 'error';
    }
    const record = await queue.get(runId);
    if (!record) return 'skipped';
    const controller = new AbortController();
    active.set(runId, { controller });
    // A cancel that came before this attempt subscribed (or before a retry) is a flag on the record.
    if (await queue.cancelRequested(runId)) controller.abort(new CoserError('CANCELLED', 'cancelled by its client'));
    log(`run ${runId} attempt ${claim.attempts} started`);
    // A retry: what the stopped attempt staged is garbage (a live but fenced-off attempt fails on its own).
    if (claim.attempts > 1) await store.discardStaged(runId);
    const staged = await store.stage(runId);
    let finalEvent: RunEvent | undefined;
    let published: Promise<unknown> = Promise.resolve();
    let lastPreview = 0;
    let outcome: ExecuteOutcome;
    try {
      outcome = await executor({
        runId,
        graph: record.graph,
        outputDir: staged,
        signal: controller.signal,
        onEvent: (event) => {
          if (finalEvent) return;
          if (event.type === 'run:done' || event.type === 'run:error' || event.type === 'run:cancelled') {
            // Held back until the record is complete, as the local scheduler does.
            finalEvent = event;
          } else if (event.type === 'node:preview') {
            if (Date.now() - lastPreview < previewInterval) return;
            lastPreview = Date.now();
            queue.publishPreview(event).catch(() => {});
          } else {
            // One connection keeps the order; the chain lets completion wait for every event before it.
            published = published
              .then(() => queue.publishEvent(event, token))
              .catch((error: unknown) => log(`event of run ${runId} lost: ${String(error)}`));
          }
        },
      });
    } catch (error) {
      // Allocation failures become OUT_OF_MEMORY: the run fails, this worker goes on serving.
      const mapped = toRunError(error);
      outcome = {
        status: 'error',
        outputs: {},
        error: { code: mapped.code, message: mapped.message, ...(mapped.node ? { node: mapped.node } : {}) },
      };
    } finally {
      active.delete(runId);
    }
    await published;
    let error: RunErrorInfo | undefined = outcome.error;
    if (outcome.status === 'done') {
      try {
        if ((await store.commit(runId, staged)) === 'exists') log(`run ${runId}: an earlier attempt's outputs kept`);
      } catch (cause) {
        // The store refused the outputs (a full or unmounted shared folder): the run failed; retrying would not help.
        const full = (cause as NodeJS.ErrnoException).code === 'ENOSPC';
        const message = `the outputs could not be stored: ${String(cause)}`;
        outcome = { status: 'error', outputs: {}, error: { code: full ? 'DISK_FULL' : 'INTERNAL', message } };
        error = outcome.error;
        await store.discard(staged).catch(() => {});
      }
    } else {
      await store.discard(staged);
      if (outcome.status === 'error' && !error)
        error = { code: 'INTERNAL', message: 'the run failed without a reason' };
    }
    const outputs = relativiseOutputs(outcome.outputs, staged);
    const files = outcome.status === 'done' ? await store.files(runId) : [];
    const ms = record.startedAt ? Date.now() - record.startedAt : 0;
    const final: RunEvent =
      outcome.status === 'done'
        ? { type: 'run:done', runId, ms: finalEvent?.type === 'run:done' ? finalEvent.ms : ms, outputs }
        : outcome.status === 'cancelled'
          ? finalEvent?.type === 'run:cancelled'
            ? finalEvent
            : { type: 'run:cancelled', runId }
          : {
              type: 'run:error',
              runId,
              code: error?.code ?? 'INTERNAL',
              message: error?.message ?? 'failed',
              ...(error?.node ? { node: error.node } : {}),
            };
    const won = await queue.finish(
      runId,
      { status: outcome.status, ...(error ? { error } : {}), outputs, files },
      { attemptToken: token, finalEvent: final },
    );
    log(`run ${runId} ${won ? outcome.status : `${outcome.status} (ignored: another attempt owns the run)`}`);
    if (won) {
      const removed = await queue.prune(historyLimit);
      for (const old of removed) await store.remove(old);
    }
    return outcome.status;
  }

  const worker = new Worker<{ runId: string }, RunStatus | 'skipped'>(RUN_JOBS_QUEUE, processJob, {
    connection: bullConnection(options.redisUrl),
    prefix: `${queue.prefix}:bull`,
    concurrency: Math.max(1, options.concurrency ?? 1),
    lockDuration,
    stalledInterval: lockDuration,
    // BullMQ re-queues a stalled run up to this many times; the CLAIM script bounds the executions.
    maxStalledCount: maxAttempts,
  });
  worker.on('error', (error) => log(`queue error: ${String(error)}`));
  worker.on('failed', (job, error) => {
    log(`job ${job?.id ?? '?'} failed: ${String(error)}`);
    // The processor only throws when Redis failed it mid-run; once BullMQ gives up, the run must not stay running.
    if (!job || job.attemptsMade < (job.opts.attempts ?? 1)) return;
    const runId = job.data.runId;
    const message = `the run could not be completed: ${String(error)}`;
    queue
      .finish(
        runId,
        { status: 'error', error: { code: 'INTERNAL', message } },
        { finalEvent: { type: 'run:error', runId, code: 'INTERNAL', message } },
      )
      .catch((cause: unknown) => log(`run ${runId} left running: ${String(cause)}`));
  });
  await worker.waitUntilReady();

  let closed: Promise<void> | undefined;
  return {
    id,
    get running() {
      return active.size;
    },
    close(closeOptions = {}) {
      closed ??= (async () => {
        await worker.close(closeOptions.force ?? false);
        await subscriber.quit().catch(() => subscriber.disconnect());
        await queue.close();
      })();
      return closed;
    },
  };
}

async function defaultExecutor(options: RunWorkerOptions, store: BlobStore): Promise<RunExecutor> {
  const { createDefaultEngine } = await import('../server/default-engine');
  const engine = createDefaultEngine({
    dataDir: options.dataDir,
    uploadsDir: store.inputRoots()[0] ?? join(options.dataDir, 'uploads'),
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    ...(options.modelsDir ? { modelsDir: options.modelsDir } : {}),
  });
  return engine.execute;
}
