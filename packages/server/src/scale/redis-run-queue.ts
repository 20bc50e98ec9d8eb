import type { RunEvent, RunOutputs } from '@coser/runtime';
import { CoserError } from '@coser/runtime';
import { Redis } from 'ioredis';
import type { NewRun, RecoveryReport, RunCompletion, RunPage, RunQuery, RunQueue } from '../server/queue/run-queue';
import type { RunErrorInfo, RunFile, RunRecord, RunStatus, SeqEvent } from '../server/types';
import { APPEND, CLAIM, COMPLETE, ENQUEUE, STORE_NUMBERED } from './redis-scripts';

/**
 * Stored events per run past which progress stops accumulating (it replaces the previous progress of its node);
 * other events are always stored. See store_event in redis-scripts.ts.
 */
export const MAX_EVENTS_PER_RUN = 2000;

export interface RedisRunQueueOptions {
  /** e.g. `redis://127.0.0.1:6379/0` */
  url: string;
  /** Key prefix, so several deployments can share one Redis (default `coser`). */
  prefix?: string;
}

/** What `claim` found. */
export type ClaimOutcome =
  | { outcome: 'claimed'; attempts: number }
  | { outcome: 'exhausted'; attempts: number }
  | { outcome: 'missing' }
  | { outcome: 'final'; status: RunStatus };

/**
 * Runs, history and events in Redis, shared by every `coser serve` and `coser worker` of a deployment. Implements
 * H6's `RunQueue` (the REST and socket.io routes read through it) plus what the distributed path needs: attempt
 * claims fenced by a token, events numbered and published in one step, cancel requests.
 *
 * Differences from the SQLite queue: `recover` never interrupts running runs (workers own them; a worker that
 * stops has its run retried by BullMQ), and finished runs keep all their progress events up to the per-run cap.
 *
 * Every method throws CoserError NOT_READY while Redis is unreachable (HTTP 503); the client reconnects by itself.
 */
export class RedisRunQueue implements RunQueue {
  readonly redis: Redis;
  readonly prefix: string;
  /** Pub/sub channel of every run's events (stored ones carry `seq`; previews do not). */
  readonly eventsChannel: string;
  /** Pub/sub channel of cancel requests (message: the run id). */
  readonly cancelChannel: string;
  private closed = false;

  constructor(options: RedisRunQueueOptions) {
    this.prefix = options.prefix ?? 'coser';
    this.eventsChannel = `${this.prefix}:events`;
    this.cancelChannel = `${this.prefix}:cancel`;
    this.redis = createRedis(options.url);
  }

  /** Waits for the first connection (rejects with NOT_READY after `timeoutMs`). */
  async connect(timeoutMs = 10_000): Promise<void> {
    await waitReady(this.redis, timeoutMs);
  }

  get isOpen(): boolean {
    return !this.closed && this.redis.status === 'ready';
  }

  /** A new, connected client of the same Redis (for subscribers, which cannot send other commands). */
  async duplicate(timeoutMs = 10_000): Promise<Redis> {
    const copy = this.redis.duplicate();
    copy.on('error', () => {});
    await waitReady(copy, timeoutMs);
    return copy;
  }

  async recover(): Promise<RecoveryReport> {
    return { resumed: await this.queuedIds(), interrupted: [] };
  }

  async enqueue(run: NewRun, cap: number): Promise<{ record: RunRecord; position: number }> {
    const createdAt = Date.now();
    const fields = [
      ['id', run.id],
      ['owner', run.owner],
      ['name', run.name],
      ['status', 'queued'],
      ['graph', JSON.stringify(run.graph)],
      ['inputs', JSON.stringify(run.inputs)],
      ['set', JSON.stringify(run.set)],
      ['createdAt', String(createdAt)],
    ].flat();
    const position = Number(
      await this.call(() =>
        this.redis.eval(
          ENQUEUE,
          4,
          this.runKey(run.id),
          this.key('runs:queued'),
          this.key('runs:all'),
          this.key('runs:order'),
          cap,
          run.id,
          ...fields,
        ),
      ),
    );
    if (position === -1) throw new CoserError('QUEUE_FULL', `the queue is full (${cap} runs waiting); try again later`);
    if (position === -2) throw new CoserError('INTERNAL', `run ${run.id} exists already`);
    return { record: { ...run, status: 'queued', createdAt }, position };
  }

  /** Starts an attempt of a run for a worker (see the CLAIM script). */
  async claim(id: string, attemptToken: string, maxAttempts: number): Promise<ClaimOutcome> {
    const [outcome, attempts] = (await this.call(() =>
      this.redis.eval(
        CLAIM,
        3,
        this.runKey(id),
        this.key('runs:queued'),
        this.key('runs:running'),
        id,
        Date.now(),
        attemptToken,
        maxAttempts,
        `${this.prefix}:run:`,
        this.eventsChannel,
        MAX_EVENTS_PER_RUN,
      ),
    )) as [string, number];
    if (outcome === 'claimed' || outcome === 'exhausted') return { outcome, attempts: Number(attempts) };
    if (outcome === 'missing') return { outcome };
    return { outcome: 'final', status: outcome as RunStatus };
  }

  async claimNext(): Promise<RunRecord | undefined> {
    for (;;) {
      const [id] = await this.call(() => this.redis.zrange(this.key('runs:queued'), '0', '0'));
      if (!id) return undefined;
      const claimed = await this.claim(id, `local:${id}`, Number.MAX_SAFE_INTEGER);
      if (claimed.outcome === 'claimed') return this.get(id);
    }
  }

  async complete(id: string, completion: RunCompletion): Promise<void> {
    await this.finish(id, completion);
  }

  /**
   * Ends a run at most once and publishes its final event (numbered). `attemptToken`: only if that attempt still
   * owns the run. Returns false when the run had already ended or belongs to another attempt.
   */
  async finish(
    id: string,
    completion: RunCompletion,
    options: { attemptToken?: string; finalEvent?: RunEvent; onlyIfQueued?: boolean } = {},
  ): Promise<boolean> {
    const result = await this.call(() =>
      this.redis.eval(
        COMPLETE,
        6,
        this.runKey(id),
        this.key('runs:queued'),
        this.key('runs:running'),
        this.key('runs:finished'),
        `${this.runKey(id)}:seq`,
        `${this.runKey(id)}:events`,
        id,
        Date.now(),
        options.attemptToken ?? '',
        completion.status,
        completion.error ? JSON.stringify(completion.error) : '',
        completion.outputs ? JSON.stringify(completion.outputs) : '',
        completion.files ? JSON.stringify(completion.files) : '',
        options.finalEvent ? JSON.stringify(options.finalEvent) : '',
        this.eventsChannel,
        MAX_EVENTS_PER_RUN,
        options.onlyIfQueued ? '1' : '0',
        `${this.prefix}:run:`,
      ),
    );
    return Number(result) > 0;
  }

  async cancelQueued(id: string): Promise<boolean> {
    return this.finish(id, { status: 'cancelled' }, { onlyIfQueued: true });
  }

  /**
   * Numbers, stores and publishes an event. With `attemptToken`, only while that attempt owns the running run.
   * Returns the seq, or 0 when the event was dropped.
   */
  async publishEvent(event: RunEvent, attemptToken = ''): Promise<number> {
    const id = event.runId;
    return Number(
      await this.call(() =>
        this.redis.eval(
          APPEND,
          3,
          this.runKey(id),
          `${this.runKey(id)}:seq`,
          `${this.runKey(id)}:events`,
          JSON.stringify(event),
          attemptToken,
          this.eventsChannel,
          MAX_EVENTS_PER_RUN,
        ),
      ),
    );
  }

  /** Publishes a preview without storing it: its float pixels travel as base64. */
  async publishPreview(event: Extract<RunEvent, { type: 'node:preview' }>): Promise<void> {
    const { image } = event;
    const data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength).toString('base64');
    const wire = { ...event, image: { width: image.width, height: image.height, channels: image.channels, data } };
    await this.call(() => this.redis.publish(this.eventsChannel, JSON.stringify(wire)));
  }

  /** Asks the worker running `id` to stop it (a flag for attempts that start later, and a message for the current). */
  async requestCancel(id: string): Promise<void> {
    await this.call(() => this.redis.hset(this.runKey(id), 'cancelRequested', '1'));
    await this.call(() => this.redis.publish(this.cancelChannel, id));
  }

  async cancelRequested(id: string): Promise<boolean> {
    return (await this.call(() => this.redis.hget(this.runKey(id), 'cancelRequested'))) === '1';
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const hash = await this.call(() => this.redis.hgetall(this.runKey(id)));
    return hash['id'] ? toRecord(hash) : undefined;
  }

  async list(query: RunQuery): Promise<RunPage> {
    const limit = Math.min(Math.max(1, Math.floor(query.limit ?? 50)), 500);
    const statuses = query.statuses && query.statuses.length > 0 ? new Set(query.statuses) : undefined;
    const name = query.name?.toLowerCase();
    const runs: { record: RunRecord; order: number }[] = [];
    let max = query.before !== undefined ? `(${query.before}` : '+inf';
    // Newest first, a page of ids at a time, filtered here: history is bounded (historyLimit), so this stays cheap.
    while (runs.length <= limit) {
      const page = await this.call(() =>
        this.redis.zrevrangebyscore(this.key('runs:all'), max, '-inf', 'WITHSCORES', 'LIMIT', 0, 200),
      );
      if (page.length === 0) break;
      const ids = page.filter((_, i) => i % 2 === 0);
      const pipeline = this.redis.pipeline();
      for (const id of ids) pipeline.hgetall(this.runKey(id));
      const hashes = (await this.call(() => pipeline.exec())) ?? [];
      hashes.forEach(([, value], i) => {
        const hash = value as Record<string, string>;
        if (!hash['id']) return;
        const record = toRecord(hash);
        if (statuses && !statuses.has(record.status)) return;
        if (name && !record.name.toLowerCase().includes(name)) return;
        if (query.owner !== undefined && record.owner !== query.owner) return;
        runs.push({ record, order: Number(page[i * 2 + 1]) });
      });
      max = `(${page[page.length - 1]}`;
      if (page.length < 400) break;
    }
    const kept = runs.slice(0, limit);
    const last = kept[kept.length - 1];
    return { runs: kept.map((r) => r.record), ...(runs.length > limit && last ? { next: last.order } : {}) };
  }

  async queuedIds(): Promise<string[]> {
    return this.call(() => this.redis.zrange(this.key('runs:queued'), '0', '-1'));
  }

  async counts(): Promise<{ queued: number; running: number }> {
    const [queued, running] = await Promise.all([
      this.call(() => this.redis.zcard(this.key('runs:queued'))),
      this.call(() => this.redis.zcard(this.key('runs:running'))),
    ]);
    return { queued, running };
  }

  async appendEvent(id: string, event: SeqEvent): Promise<void> {
    await this.call(() =>
      this.redis.eval(
        STORE_NUMBERED,
        2,
        `${this.runKey(id)}:seq`,
        `${this.runKey(id)}:events`,
        event.seq,
        JSON.stringify(event),
        MAX_EVENTS_PER_RUN,
      ),
    );
  }

  async events(id: string, after = 0): Promise<SeqEvent[]> {
    const items = await this.call(() => this.redis.lrange(`${this.runKey(id)}:events`, 0, -1));
    return items.map((text) => JSON.parse(text) as SeqEvent).filter((e) => e.seq > after);
  }

  async lastSeq(id: string): Promise<number> {
    return Number((await this.call(() => this.redis.get(`${this.runKey(id)}:seq`))) ?? 0);
  }

  async prune(keep: number): Promise<string[]> {
    const finished = this.key('runs:finished');
    const excess = (await this.call(() => this.redis.zcard(finished))) - Math.max(0, keep);
    if (excess <= 0) return [];
    const ids = await this.call(() => this.redis.zrange(finished, '0', String(excess - 1)));
    const multi = this.redis.multi();
    for (const id of ids) {
      multi.del(this.runKey(id), `${this.runKey(id)}:events`, `${this.runKey(id)}:seq`);
      multi.zrem(finished, id);
      multi.zrem(this.key('runs:all'), id);
    }
    await this.call(() => multi.exec());
    return ids;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  key(name: string): string {
    return `${this.prefix}:${name}`;
  }

  private runKey(id: string): string {
    return `${this.prefix}:run:${id}`;
  }

  /** Runs a command, turning "Redis is unreachable" into NOT_READY (503) instead of an internal error. */
  private async call<T>(command: () => Promise<T>): Promise<T> {
    if (!this.isOpen) throw new CoserError('NOT_READY', this.closed ? 'the queue is closed' : 'Redis is unreachable');
    try {
      return await command();
    } catch (error) {
      if (this.redis.status !== 'ready' || isConnectionError(error)) {
        throw new CoserError('NOT_READY', `Redis is unreachable: ${String(error)}`, {}, { cause: error });
      }
      throw error;
    }
  }
}

/** An ioredis client that fails commands at once while disconnected and keeps reconnecting (at most 1 s apart). */
export function createRedis(url: string): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(100 * times, 1000),
  });
  // Errors surface as NOT_READY through `isOpen`; without a listener ioredis would print each reconnect failure.
  redis.on('error', () => {});
  return redis;
}

/** Resolves once the client is connected; CoserError NOT_READY after `timeoutMs`. */
export async function waitReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new CoserError('NOT_READY', `Redis did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

function isConnectionError(error: unknown): boolean {
  const message = String((error as Error | undefined)?.message ?? error);
  return /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|EPIPE|MaxRetriesPerRequest/i.test(
    message,
  );
}

function json<T>(text: string | undefined): T | undefined {
  return text === undefined || text === '' ? undefined : (JSON.parse(text) as T);
}

function toRecord(hash: Record<string, string>): RunRecord {
  const error = json<RunErrorInfo>(hash['error']);
  const outputs = json<RunOutputs>(hash['outputs']);
  const files = json<RunFile[]>(hash['files']);
  return {
    id: hash['id'] ?? '',
    owner: hash['owner'] ?? '',
    name: hash['name'] ?? '',
    status: (hash['status'] ?? 'queued') as RunStatus,
    graph: JSON.parse(hash['graph'] ?? '{}') as RunRecord['graph'],
    inputs: json<Record<string, unknown>>(hash['inputs']) ?? {},
    set: json<Record<string, unknown>>(hash['set']) ?? {},
    createdAt: Number(hash['createdAt'] ?? 0),
    ...(hash['startedAt'] ? { startedAt: Number(hash['startedAt']) } : {}),
    ...(hash['finishedAt'] ? { finishedAt: Number(hash['finishedAt']) } : {}),
    ...(error ? { error } : {}),
    ...(outputs ? { outputs } : {}),
    ...(files ? { files } : {}),
  };
}
