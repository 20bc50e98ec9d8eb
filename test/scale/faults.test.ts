// Faults of the scale-out path with a real Redis and real `coser worker` processes: a worker killed mid-run (the run
// is retried elsewhere and completes exactly once), cancel across processes, a server restart with queued runs,
// and Redis restarting under a running server (503 NOT_READY, then back).
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoserServer } from '../../packages/server/src/server/create-server';
import {
  api,
  HAVE_REDIS,
  type RedisProcess,
  resizeGraph,
  sharedFolder,
  sleep,
  startRedis,
  startScaleServer,
  startWorker,
  submit,
  TOKEN,
  type WorkerProcess,
  waitFinal,
  waitFor,
} from './harness';

type Event = { type: string; seq: number; node?: string };

async function events(server: CoserServer, runId: string): Promise<Event[]> {
  return (await api(server, 'GET', `/api/runs/${runId}/events`)).body['events'] as Event[];
}

describe.skipIf(!HAVE_REDIS)('a worker killed mid-run, and cancel across processes', () => {
  let redis: RedisProcess;
  let shared: Awaited<ReturnType<typeof sharedFolder>>;
  let server: CoserServer;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    shared = await sharedFolder(6);
    server = await startScaleServer(redis.url, shared.dir);
    const flags = ['--lock-ms', '4000'];
    workers.push(
      ...(await Promise.all([startWorker(redis.url, shared.dir, flags), startWorker(redis.url, shared.dir, flags)])),
    );
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    await server?.close();
    await redis?.stop();
    await shared?.remove();
  });

  it('retries the run of a SIGKILLed worker on the other one; it completes exactly once', async () => {
    const runId = await submit(server, resizeGraph('in-0.png', 20, 16));
    await waitFor(async () => (await events(server, runId)).some((e) => e.type === 'node:done'), 60_000, 'progress');
    const victim = workers.find((w) => w.started().includes(runId));
    const survivor = workers.find((w) => w !== victim);
    expect(victim).toBeDefined();
    await victim?.kill('SIGKILL');

    expect(await waitFinal(server, [runId], 90_000)).toEqual({ [runId]: 'done' });
    expect(survivor?.started()).toContain(runId);
    const stored = await events(server, runId);
    expect(stored.filter((e) => e.type === 'run:done')).toHaveLength(1);
    expect(stored.filter((e) => e.type === 'run:started').length).toBeGreaterThanOrEqual(2);
    expect(stored.map((e) => e.seq)).toEqual(stored.map((_, i) => i + 1));
    const detail = await api(server, 'GET', `/api/runs/${runId}`);
    expect((detail.body['files'] as { name: string }[]).map((f) => f.name)).toEqual(['out.png']);
    expect(await readdir(join(shared.dir, 'runs', runId))).toEqual(['out.png']);
    // The killed attempt's staging folder was cleared by the retry.
    const staging = await readdir(join(shared.dir, 'runs', '.staging')).catch(() => []);
    expect(staging.filter((name) => name.startsWith(runId))).toEqual([]);
  }, 150_000);

  it('cancels a running run on another process, and a queued one, and the worker keeps serving', async () => {
    const [worker] = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
    expect(worker).toBeDefined();
    const socket = io(server.url, { auth: { token: TOKEN, clientKey: 'k' }, transports: ['websocket'] });
    const seen: (Event & { runId: string })[] = [];
    socket.on('run:event', (e: Event & { runId: string }) => seen.push(e));
    // Long runs (400 resizes) so that the cancels always land mid-run, however loaded the machine is.
    const submitOne = (input: string) =>
      new Promise<{ ok: boolean; runId: string }>((done) =>
        socket.emit('run:submit', { graph: resizeGraph(input, 200, 16) }, done),
      );
    const cancel = (runId: string) =>
      new Promise<{ ok: boolean; status: string }>((done) => socket.emit('run:cancel', { runId }, done));

    const running = await submitOne('in-1.png');
    const queued = await submitOne('in-2.png');
    await waitFor(() => seen.some((e) => e.runId === running.runId && e.type === 'node:done'), 60_000, 'running');
    expect(await cancel(queued.runId)).toEqual({ ok: true, status: 'cancelled' });
    const started = Date.now();
    expect(await cancel(running.runId)).toEqual({ ok: true, status: 'cancelled' });
    // Stopped within a node or two, far from the run's full length.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(seen.filter((e) => e.runId === running.runId && e.type === 'run:cancelled')).toHaveLength(1);
    expect(worker?.started()).not.toContain(queued.runId);

    const next = await submit(server, resizeGraph('in-3.png', 1, 2));
    expect(await waitFinal(server, [next], 60_000)).toEqual({ [next]: 'done' });
    expect(await waitFinal(server, [queued.runId])).toEqual({ [queued.runId]: 'cancelled' });
    socket.close();
  }, 150_000);
});

describe.skipIf(!HAVE_REDIS)('restarts', () => {
  let redis: RedisProcess;
  let shared: Awaited<ReturnType<typeof sharedFolder>>;
  const servers: CoserServer[] = [];
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    shared = await sharedFolder(4);
  });

  afterAll(async () => {
    await worker?.kill('SIGKILL');
    for (const server of servers) await server.close();
    await redis?.stop();
    await shared?.remove();
  });

  it('keeps queued runs across a server restart; a worker started later runs them', async () => {
    const first = await startScaleServer(redis.url, shared.dir);
    servers.push(first);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await submit(first, resizeGraph(`in-${i}.png`)));
    await first.close();
    const second = await startScaleServer(redis.url, shared.dir);
    servers.push(second);
    expect(second.recovered).toEqual({ resumed: ids, interrupted: [] });
    expect((await api(second, 'GET', '/ready')).body).toEqual({ ok: true, queued: 3, running: 0 });
    worker = await startWorker(redis.url, shared.dir, ['--lock-ms', '4000']);
    expect(Object.values(await waitFinal(second, ids, 60_000))).toEqual(['done', 'done', 'done']);
    // The last run was told each time it moved up the queue.
    const positions = (await events(second, ids[2] as string))
      .filter((e) => e.type === 'run:queued')
      .map((e) => (e as Event & { position: number }).position);
    expect(positions).toEqual([3, 2, 1]);
  }, 150_000);

  it('answers 503 NOT_READY while Redis is down and serves again once it is back', async () => {
    const server = servers[servers.length - 1] as CoserServer;
    await redis.stop();
    await waitFor(async () => (await api(server, 'GET', '/ready')).status === 503, 10_000, '503');
    expect((await api(server, 'GET', '/ready')).body).toMatchObject({ error: { code: 'NOT_READY' } });
    const list = await api(server, 'GET', '/api/runs');
    expect(list.status).toBe(503);
    expect(list.body).toMatchObject({ error: { code: 'NOT_READY' } });
    const refused = await api(server, 'POST', '/api/runs', { graph: resizeGraph('in-3.png') });
    expect(refused.status).toBe(503);

    await redis.start();
    await waitFor(async () => (await api(server, 'GET', '/ready')).status === 200, 20_000, 'ready again');
    // The server and the worker reconnected: a new run goes through (this test Redis kept no data).
    const runId = await submit(server, resizeGraph('in-3.png'));
    expect(await waitFinal(server, [runId], 60_000)).toEqual({ [runId]: 'done' });
  }, 150_000);
});

describe.skipIf(!HAVE_REDIS)('Redis with appendonly yes', () => {
  let redis: RedisProcess;
  let shared: Awaited<ReturnType<typeof sharedFolder>>;
  let server: CoserServer | undefined;
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    shared = await sharedFolder(2);
    await mkdir(join(shared.dir, 'redis'));
    redis = await startRedis({ appendonlyDir: join(shared.dir, 'redis') });
  });

  afterAll(async () => {
    await worker?.kill('SIGKILL');
    await server?.close();
    await redis?.stop();
    await shared?.remove();
  });

  it('keeps queued runs (records and jobs) across a Redis crash', async () => {
    server = await startScaleServer(redis.url, shared.dir);
    const ids = [await submit(server, resizeGraph('in-0.png')), await submit(server, resizeGraph('in-1.png'))];
    // appendfsync everysec: what was written over a second before the crash is on disk.
    await sleep(1500);
    await redis.stop();
    await redis.start();
    await waitFor(async () => (await api(server as CoserServer, 'GET', '/ready')).status === 200, 20_000, 'ready');
    worker = await startWorker(redis.url, shared.dir, ['--lock-ms', '4000']);
    expect(Object.values(await waitFinal(server, ids, 60_000))).toEqual(['done', 'done']);
  }, 150_000);
});
