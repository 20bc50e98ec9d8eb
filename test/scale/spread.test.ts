// Runs submitted to a `coser serve --redis` server execute on two `coser worker` processes; their events reach a
// socket.io client of the server unchanged, numbered, and the outputs are served from the shared folder.

import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoserServer } from '../../packages/server/src/server/create-server';
import {
  api,
  HAVE_REDIS,
  type RedisProcess,
  resizeGraph,
  runStatus,
  sharedFolder,
  startRedis,
  startScaleServer,
  startWorker,
  submit,
  TOKEN,
  type WorkerProcess,
  waitFinal,
  waitFor,
} from './harness';

describe.skipIf(!HAVE_REDIS)('runs spread over two workers', () => {
  let redis: RedisProcess;
  let shared: Awaited<ReturnType<typeof sharedFolder>>;
  let server: CoserServer;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    shared = await sharedFolder(6);
    server = await startScaleServer(redis.url, shared.dir);
    workers.push(...(await Promise.all([startWorker(redis.url, shared.dir), startWorker(redis.url, shared.dir)])));
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGTERM')));
    await server?.close();
    await redis?.stop();
    await shared?.remove();
  });

  it('executes every run once, on both workers, and streams its events to socket.io clients', async () => {
    const socket = io(server.url, { auth: { token: TOKEN, clientKey: 'k' }, transports: ['websocket'] });
    const events: { type: string; runId: string; seq?: number }[] = [];
    socket.on('run:event', (event: { type: string; runId: string; seq?: number }) => events.push(event));
    await new Promise<void>((done, fail) => {
      socket.once('connect', () => done());
      socket.once('connect_error', fail);
    });
    const first = await new Promise<{ ok: boolean; runId: string }>((done) =>
      socket.emit('run:submit', { graph: resizeGraph('in-0.png', 1, 8) }, done),
    );
    expect(first.ok).toBe(true);
    const ids = [first.runId];
    for (let i = 1; i < 6; i++) ids.push(await submit(server, resizeGraph(`in-${i}.png`, 1, 8)));

    const statuses = await waitFinal(server, ids, 90_000);
    expect(Object.values(statuses)).toEqual(ids.map(() => 'done'));
    // Each run started exactly once, and each worker took some.
    const started = workers.flatMap((w) => w.started());
    expect(started.sort()).toEqual([...ids].sort());
    for (const worker of workers) expect(worker.started().length).toBeGreaterThan(0);

    // The socket saw the first run's events in order: queued first, one final event, seq 1, 2, 3...
    await new Promise((done) => setTimeout(done, 200));
    const mine = events.filter((e) => e.runId === first.runId);
    expect(mine.map((e) => e.seq)).toEqual(mine.map((_, i) => i + 1));
    expect(mine[0]?.type).toBe('run:queued');
    expect(mine.map((e) => e.type)).toContain('node:done');
    expect(
      mine.filter((e) => e.type.startsWith('run:') && e.type !== 'run:queued' && e.type !== 'run:started'),
    ).toEqual([expect.objectContaining({ type: 'run:done' })]);
    socket.close();

    // Detail, stored events and the output file come from Redis and the shared folder.
    const detail = await api(server, 'GET', `/api/runs/${first.runId}`);
    const files = detail.body['files'] as { name: string; bytes: number; url: string }[];
    expect(files.map((f) => f.name)).toEqual(['out.png']);
    const png = await fetch(`${server.url}${files[0]?.url}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(png.status).toBe(200);
    expect(
      Buffer.from(await png.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    const stored = await api(server, 'GET', `/api/runs/${first.runId}/events`);
    expect((stored.body['events'] as unknown[]).length).toBe(mine.length);
    const list = await api(server, 'GET', '/api/runs?status=done&limit=3');
    expect((list.body['runs'] as unknown[]).length).toBe(3);
    expect(list.body['next']).toBeDefined();
    const ready = await api(server, 'GET', '/ready');
    expect(ready.body).toEqual({ ok: true, queued: 0, running: 0 });
  }, 150_000);

  it('lets a client of a second server follow and cancel a run submitted to the first (a load balancer)', async () => {
    const other = await startScaleServer(redis.url, shared.dir);
    try {
      const socket = io(other.url, { auth: { token: TOKEN, clientKey: 'k' }, transports: ['websocket'] });
      const seen: { type: string; runId: string; seq: number }[] = [];
      socket.on('run:event', (e: { type: string; runId: string; seq: number }) => seen.push(e));
      // Long enough (400 resizes) that the cancel always lands mid-run, however loaded the machine is.
      const runId = await submit(server, resizeGraph('in-5.png', 200, 16));
      const subscribed = await new Promise<{ ok: boolean; events: { seq: number }[] }>((done) =>
        socket.emit('run:subscribe', { runId }, done),
      );
      expect(subscribed.ok).toBe(true);
      await waitFor(() => seen.some((e) => e.type === 'node:done'), 60_000, 'live events on the other server');
      const cancelled = await new Promise<{ ok: boolean; status: string }>((done) =>
        socket.emit('run:cancel', { runId }, done),
      );
      expect(cancelled).toEqual({ ok: true, status: 'cancelled' });
      await waitFor(() => seen.some((e) => e.type === 'run:cancelled'), 5_000, 'the final event');
      // The stored events plus the live ones miss no seq.
      const seqs = [...subscribed.events.map((e) => e.seq), ...seen.map((e) => e.seq)];
      expect(new Set(seqs).size).toBe(Math.max(...seqs));
      expect(await runStatus(server, runId)).toBe('cancelled');
      socket.close();
    } finally {
      await other.close();
    }
  }, 150_000);
});
