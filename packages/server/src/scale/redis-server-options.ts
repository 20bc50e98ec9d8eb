import type { CreateServerOptions } from '../server/create-server';
import { DistributedScheduler } from './distributed-scheduler';
import { createJobQueue, SCALE_DEFAULTS } from './jobs';
import { RedisRunQueue } from './redis-run-queue';

export interface RedisServerOptions {
  /** e.g. `redis://10.0.0.5:6379/0` */
  redisUrl: string;
  /** Key prefix shared by the deployment's servers and workers (default `coser`). */
  prefix?: string;
  /** Executions of a run at most; must match the workers' (default 3). */
  maxAttempts?: number;
  /** How long to wait for Redis at start (default 10 s); CoserError NOT_READY after. */
  connectTimeoutMs?: number;
}

/**
 * The `createServer` options that turn a server into one of several behind a load balancer: runs, history and
 * events in Redis, execution on `coser worker`s through BullMQ. The server's `dataDir` must be the shared folder the
 * workers use (uploads in, outputs out).
 *
 * @example
 * const server = await createServer({ dataDir: '/mnt/coser', ...(await redisServerOptions({ redisUrl })) });
 */
export async function redisServerOptions(
  options: RedisServerOptions,
): Promise<Required<Pick<CreateServerOptions, 'queue' | 'createScheduler'>>> {
  const queue = new RedisRunQueue({ url: options.redisUrl, ...(options.prefix ? { prefix: options.prefix } : {}) });
  try {
    await queue.connect(options.connectTimeoutMs);
  } catch (error) {
    await queue.close();
    throw error;
  }
  return {
    queue,
    createScheduler: (base) =>
      new DistributedScheduler({
        queue,
        jobs: createJobQueue(options.redisUrl, queue.prefix),
        engine: base.engine,
        runsDir: base.runsDir,
        queueCap: base.queueCap,
        historyLimit: base.historyLimit,
        maxAttempts: options.maxAttempts ?? SCALE_DEFAULTS.maxAttempts,
        ...(base.log ? { log: base.log } : {}),
      }),
  };
}
