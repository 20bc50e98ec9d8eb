import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GraphFile } from '@coser/runtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SeqEvent } from '../types';
import { MAX_PROGRESS_EVENTS_PER_RUN, SqliteRunQueue } from './sqlite-run-queue';

const graph: GraphFile = {
  format: 'coser-graph',
  version: 1,
  name: 'g',
  description: '',
  nodes: [],
  edges: [],
  inputs: {},
};

let dir: string;
let queue: SqliteRunQueue;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coser-queue-'));
  queue = new SqliteRunQueue(join(dir, 'runs.db'));
});
afterEach(async () => {
  await queue.close();
  await rm(dir, { recursive: true, force: true });
});

function run(id: string, name = 'g', owner = 'o') {
  return { id, owner, name, graph: { ...graph, name }, inputs: {}, set: {} };
}

function progress(runId: string, seq: number, node = 'n'): SeqEvent {
  return { type: 'node:progress', runId, node, value: seq, max: 100, seq };
}

describe('SqliteRunQueue', () => {
  it('queues in order up to the cap, hands each run out once, oldest first', async () => {
    expect((await queue.enqueue(run('a'), 2)).position).toBe(1);
    expect((await queue.enqueue(run('b'), 2)).position).toBe(2);
    await expect(queue.enqueue(run('c'), 2)).rejects.toMatchObject({ code: 'QUEUE_FULL' });
    expect(await queue.get('c')).toBeUndefined();
    expect(await queue.queuedIds()).toEqual(['a', 'b']);
    expect((await queue.claimNext())?.id).toBe('a');
    expect((await queue.claimNext())?.id).toBe('b');
    expect(await queue.claimNext()).toBeUndefined();
    expect(await queue.counts()).toEqual({ queued: 0, running: 2 });
  });

  it('cancels only queued runs', async () => {
    await queue.enqueue(run('a'), 10);
    await queue.enqueue(run('b'), 10);
    await queue.claimNext();
    expect(await queue.cancelQueued('a')).toBe(false);
    expect(await queue.cancelQueued('b')).toBe(true);
    expect(await queue.cancelQueued('b')).toBe(false);
    expect((await queue.get('b'))?.status).toBe('cancelled');
  });

  it('recovers: running -> interrupted with a final event after its own, queued stay queued', async () => {
    await queue.enqueue(run('a'), 10);
    await queue.enqueue(run('b'), 10);
    await queue.claimNext();
    await queue.appendEvent('a', progress('a', 1));
    await queue.close();
    queue = new SqliteRunQueue(join(dir, 'runs.db'));
    expect(await queue.recover()).toEqual({ resumed: ['b'], interrupted: ['a'] });
    const a = await queue.get('a');
    expect(a?.status).toBe('interrupted');
    expect(a?.error?.code).toBe('CANCELLED');
    expect((await queue.events('a')).map((e) => [e.seq, e.type])).toEqual([
      [1, 'node:progress'],
      [2, 'run:error'],
    ]);
  });

  it('bounds stored progress (past the cap it replaces its node’s newest), keeps other events, thins at the end', async () => {
    await queue.enqueue(run('a'), 10);
    await queue.claimNext();
    const cap = MAX_PROGRESS_EVENTS_PER_RUN;
    for (let seq = 1; seq <= cap + 50; seq++) await queue.appendEvent('a', progress('a', seq, seq % 2 ? 'x' : 'y'));
    await queue.appendEvent('a', { type: 'node:done', runId: 'a', node: 'x', ms: 1, cached: false, seq: cap + 51 });
    // The newest progress of each node is stored even past the cap; the one it replaced is gone.
    expect((await queue.events('a', cap - 2)).map((e) => e.seq)).toEqual([cap + 49, cap + 50, cap + 51]);
    await queue.appendEvent('a', { type: 'run:done', runId: 'a', ms: 1, outputs: {}, seq: cap + 52 });
    await queue.complete('a', { status: 'done', outputs: {}, files: [{ name: 'out.png', bytes: 3 }] });
    const events = await queue.events('a');
    // One progress event per node (its last) plus the events that are not progress.
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [cap + 49, 'node:progress'],
      [cap + 50, 'node:progress'],
      [cap + 51, 'node:done'],
      [cap + 52, 'run:done'],
    ]);
    expect(await queue.events('a', cap + 51)).toHaveLength(1);
    expect((await queue.get('a'))?.files).toEqual([{ name: 'out.png', bytes: 3 }]);
  });

  it('lists newest first with filters and pages, and prunes the oldest finished runs', async () => {
    for (const [id, name, owner] of [
      ['a', 'Alpha 50%', 'o1'],
      ['b', 'beta', 'o2'],
      ['c', 'alphabet', 'o1'],
    ] as const) {
      await queue.enqueue(run(id, name, owner), 10);
    }
    await queue.claimNext();
    await queue.complete('a', { status: 'error', error: { code: 'NODE_FAILED', message: 'x', node: 'n' } });
    expect((await queue.list({})).runs.map((r) => r.id)).toEqual(['c', 'b', 'a']);
    expect((await queue.list({ name: 'ALPHA' })).runs.map((r) => r.id)).toEqual(['c', 'a']);
    expect((await queue.list({ name: '50%' })).runs.map((r) => r.id)).toEqual(['a']);
    expect((await queue.list({ name: '_' })).runs).toEqual([]);
    expect((await queue.list({ statuses: ['error'] })).runs[0]?.error).toEqual({
      code: 'NODE_FAILED',
      message: 'x',
      node: 'n',
    });
    expect((await queue.list({ owner: 'o2' })).runs.map((r) => r.id)).toEqual(['b']);
    const page = await queue.list({ limit: 2 });
    expect(page.runs.map((r) => r.id)).toEqual(['c', 'b']);
    expect((await queue.list({ limit: 2, before: page.next })).runs.map((r) => r.id)).toEqual(['a']);

    await queue.claimNext();
    await queue.complete('b', { status: 'done' });
    expect(await queue.prune(1)).toEqual(['a']);
    expect(await queue.get('a')).toBeUndefined();
    expect((await queue.get('c'))?.status).toBe('queued');
  });
});
