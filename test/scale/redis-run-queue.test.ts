// The Redis run queue against a real redis-server: H6's RunQueue contract (cap, order, claim, cancel, history pages,
// events, pruning, NOT_READY when closed) and the fencing that makes a run end exactly once across attempts.
import type { GraphFile } from '@coser/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_EVENTS_PER_RUN, RedisRunQueue } from '../../packages/server/src/scale/redis-run-queue';
import type { NewRun } from '../../packages/server/src/server/queue/run-queue';
import { HAVE_REDIS, type RedisProcess, startRedis } from './harness';

const graph: GraphFile = {
  format: 'coser-graph',
  version: 1,
  name: 'g',
  description: '',
  nodes: [],
  edges: [],
  inputs: {},
};
let counter = 0;
function newRun(name = 'run', owner = 'alice'): NewRun {
  counter += 1;
  const id = `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`;
  return { id, owner, name, graph: { ...graph, name }, inputs: { image: 'a.png' }, set: {} };
}

describe.skipIf(!HAVE_REDIS)('RedisRunQueue', () => {
  let redis: RedisProcess;
  let queue: RedisRunQueue;
  let prefix = 0;

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  async function fresh(): Promise<RedisRunQueue> {
    prefix += 1;
    queue = new RedisRunQueue({ url: redis.url, prefix: `t${prefix}` });
    await queue.connect();
    return queue;
  }

  it('queues up to the cap, oldest first, and claims each run once', async () => {
    const q = await fresh();
    const runs = [newRun('a'), newRun('b'), newRun('c')];
    const positions = [];
    for (const run of runs) positions.push((await q.enqueue(run, 3)).position);
    expect(positions).toEqual([1, 2, 3]);
    await expect(q.enqueue(newRun('d'), 3)).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    expect(await q.queuedIds()).toEqual(runs.map((r) => r.id));

    const claimed = await q.claimNext();
    expect(claimed).toMatchObject({ id: runs[0]?.id, status: 'running', inputs: { image: 'a.png' } });
    expect(claimed?.startedAt).toBeGreaterThan(0);
    expect(await q.counts()).toEqual({ queued: 2, running: 1 });
    expect(await q.cancelQueued(runs[0]?.id as string)).toBe(false);
    expect(await q.cancelQueued(runs[1]?.id as string)).toBe(true);
    expect((await q.get(runs[1]?.id as string))?.status).toBe('cancelled');
    expect((await q.claimNext())?.id).toBe(runs[2]?.id);
    expect(await q.claimNext()).toBeUndefined();
    expect(await q.recover()).toEqual({ resumed: [], interrupted: [] });
    await q.close();
  });

  it('fences attempts: a stopped attempt can neither publish nor complete once the run was claimed again', async () => {
    const q = await fresh();
    const run = newRun();
    await q.enqueue(run, 10);
    expect(await q.publishEvent({ type: 'run:queued', runId: run.id, position: 1 })).toBe(1);
    expect(await q.claim(run.id, 'first', 3)).toEqual({ outcome: 'claimed', attempts: 1 });
    expect(await q.publishEvent({ type: 'run:started', runId: run.id, nodes: [] }, 'first')).toBe(2);
    expect(await q.claim(run.id, 'second', 3)).toEqual({ outcome: 'claimed', attempts: 2 });
    expect(await q.publishEvent({ type: 'node:started', runId: run.id, node: 'n' }, 'first')).toBe(0);
    expect(await q.finish(run.id, { status: 'done' }, { attemptToken: 'first' })).toBe(false);
    const done = { type: 'run:done' as const, runId: run.id, ms: 5, outputs: {} };
    expect(
      await q.finish(
        run.id,
        { status: 'done', files: [{ name: 'out.png', bytes: 3 }] },
        { attemptToken: 'second', finalEvent: done },
      ),
    ).toBe(true);
    // Exactly once: a second completion, by anyone, is refused; a late claim finds the final status.
    expect(await q.finish(run.id, { status: 'error' }, { finalEvent: done })).toBe(false);
    expect(await q.claim(run.id, 'third', 3)).toEqual({ outcome: 'final', status: 'done' });
    expect((await q.events(run.id)).map((e) => [e.seq, e.type])).toEqual([
      [1, 'run:queued'],
      [2, 'run:started'],
      [3, 'run:done'],
    ]);
    expect((await q.events(run.id, 2)).map((e) => e.seq)).toEqual([3]);
    expect(await q.lastSeq(run.id)).toBe(3);
    expect(await q.get(run.id)).toMatchObject({ status: 'done', files: [{ name: 'out.png', bytes: 3 }] });
    await q.close();
  });

  it('bounds stored events: past the cap progress replaces its node’s last one, other events are all kept', async () => {
    const q = await fresh();
    const run = newRun();
    await q.enqueue(run, 10);
    await q.claim(run.id, 'a', 3);
    const progress = (value: number) => ({ type: 'node:progress' as const, runId: run.id, node: 'n', value, max: 1e4 });
    const pipeline = [];
    for (let value = 1; value <= MAX_EVENTS_PER_RUN + 10; value++) pipeline.push(q.publishEvent(progress(value), 'a'));
    await Promise.all(pipeline);
    await q.publishEvent({ type: 'node:done', runId: run.id, node: 'n', ms: 1, cached: false }, 'a');
    await q.publishEvent(progress(1), 'a');
    await q.publishEvent({ type: 'node:started', runId: run.id, node: 'm' }, 'a');
    const done = { type: 'run:done' as const, runId: run.id, ms: 5, outputs: {} };
    await q.finish(run.id, { status: 'done' }, { attemptToken: 'a', finalEvent: done });
    const tail = (await q.events(run.id, MAX_EVENTS_PER_RUN - 2)).map((e) => [
      e.seq,
      e.type,
      e.type === 'node:progress' ? e.value : undefined,
    ]);
    expect(tail).toEqual([
      [MAX_EVENTS_PER_RUN - 1, 'node:progress', MAX_EVENTS_PER_RUN - 1],
      [MAX_EVENTS_PER_RUN + 10, 'node:progress', MAX_EVENTS_PER_RUN + 10],
      [MAX_EVENTS_PER_RUN + 11, 'node:done', undefined],
      // Progress past the cap that follows another event is only published.
      [MAX_EVENTS_PER_RUN + 13, 'node:started', undefined],
      [MAX_EVENTS_PER_RUN + 14, 'run:done', undefined],
    ]);
    await q.close();
  });

  it('bounds attempts', async () => {
    const q = await fresh();
    const run = newRun();
    await q.enqueue(run, 10);
    expect((await q.claim(run.id, 'a', 2)).outcome).toBe('claimed');
    expect((await q.claim(run.id, 'b', 2)).outcome).toBe('claimed');
    expect(await q.claim(run.id, 'c', 2)).toEqual({ outcome: 'exhausted', attempts: 3 });
    expect(await q.claim('00000000-0000-4000-8000-999999999999', 'd', 2)).toEqual({ outcome: 'missing' });
    await q.close();
  });

  it('lists history newest first with filters and pages, and prunes the oldest finished runs', async () => {
    const q = await fresh();
    const runs = [newRun('cat one'), newRun('dog', 'bob'), newRun('Cat two'), newRun('cat three')];
    for (const run of runs) await q.enqueue(run, 10);
    for (const run of runs.slice(0, 3)) {
      await q.claim(run.id, 't', 3);
      await q.complete(run.id, { status: run.name === 'dog' ? 'error' : 'done' });
    }
    const all = await q.list({});
    expect(all.runs.map((r) => r.name)).toEqual(['cat three', 'Cat two', 'dog', 'cat one']);
    expect((await q.list({ name: 'CAT' })).runs.map((r) => r.name)).toEqual(['cat three', 'Cat two', 'cat one']);
    expect((await q.list({ owner: 'bob' })).runs.map((r) => r.name)).toEqual(['dog']);
    expect((await q.list({ statuses: ['done'] })).runs.map((r) => r.name)).toEqual(['Cat two', 'cat one']);
    const first = await q.list({ limit: 2 });
    expect(first.runs.map((r) => r.name)).toEqual(['cat three', 'Cat two']);
    const second = await q.list({ limit: 2, before: first.next as number });
    expect(second.runs.map((r) => r.name)).toEqual(['dog', 'cat one']);
    expect(second.next).toBeUndefined();

    await q.appendEvent(runs[0]?.id as string, { type: 'run:cancelled', runId: runs[0]?.id as string, seq: 7 });
    expect(await q.lastSeq(runs[0]?.id as string)).toBe(7);
    expect(await q.prune(1)).toEqual([runs[0]?.id, runs[1]?.id]);
    expect(await q.get(runs[0]?.id as string)).toBeUndefined();
    expect(await q.events(runs[0]?.id as string)).toEqual([]);
    expect((await q.list({})).runs.map((r) => r.name)).toEqual(['cat three', 'Cat two']);
    await q.close();
  });

  it('answers NOT_READY once closed', async () => {
    const q = await fresh();
    await q.close();
    expect(q.isOpen).toBe(false);
    await expect(q.counts()).rejects.toMatchObject({ code: 'NOT_READY' });
  });
});
