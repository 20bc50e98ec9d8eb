import { Queue } from 'bullmq';

/** The BullMQ queue every server adds runs to and every worker takes them from. */
export const RUN_JOBS_QUEUE = 'runs';

/** Worker defaults; `coser worker` flags override them. */
export const SCALE_DEFAULTS = {
  /** A worker that stops renewing a run's lock for this long (killed, hung) loses it to another worker. */
  lockDurationMs: 30_000,
  /** Executions of one run at most (the first plus retries after a worker stopped); then it fails. */
  maxAttempts: 3,
} as const;

/** BullMQ's connection options for a Redis URL (blocking commands need `maxRetriesPerRequest: null`). */
export function bullConnection(url: string): { url: string; maxRetriesPerRequest: null } {
  return { url, maxRetriesPerRequest: null };
}

/** The job queue of a deployment; BullMQ keys go under `PREFIX:bull`. */
export function createJobQueue(url: string, prefix = 'coser'): Queue {
  const queue = new Queue(RUN_JOBS_QUEUE, { connection: bullConnection(url), prefix: `${prefix}:bull` });
  // Connection errors while Redis restarts are expected; the run queue reports them as NOT_READY.
  queue.on('error', () => {});
  return queue;
}

/** Adds a run's job (idempotent: the job id is the run id, so a second add of the same run is a no-op). */
export async function addRunJob(
  queue: Queue,
  runId: string,
  maxAttempts: number = SCALE_DEFAULTS.maxAttempts,
): Promise<void> {
  await queue.add(
    'run',
    { runId },
    {
      jobId: runId,
      // Retries here cover a worker that failed to talk to Redis mid-run; the run record counts attempts itself.
      attempts: maxAttempts,
      backoff: { type: 'fixed', delay: 1000 },
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 1000 },
    },
  );
}
