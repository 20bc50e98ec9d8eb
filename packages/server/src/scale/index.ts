// The scale-out pieces (docs/scaling.md): a Redis run queue, BullMQ jobs, run workers and the shared blob store.

export type { BlobStore } from './blob-store';
export { SharedFolderStore } from './blob-store';
export { DistributedScheduler, type DistributedSchedulerOptions } from './distributed-scheduler';
export { addRunJob, createJobQueue, RUN_JOBS_QUEUE, SCALE_DEFAULTS } from './jobs';
export { type ClaimOutcome, RedisRunQueue, type RedisRunQueueOptions } from './redis-run-queue';
export { type RedisServerOptions, redisServerOptions } from './redis-server-options';
export { type RunWorker, type RunWorkerOptions, startRunWorker } from './run-worker';
