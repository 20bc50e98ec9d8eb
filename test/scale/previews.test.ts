// Previews cross Redis as raw float pixels (not stored) and reach socket.io clients as PNGs, as on one machine.

import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunWorker, startRunWorker } from '../../packages/server/src/scale/run-worker';
import type { CoserServer } from '../../packages/server/src/server/create-server';
import type { RunExecutor } from '../../packages/server/src/server/run-engine';
import {
  api,
  HAVE_REDIS,
  type RedisProcess,
  resizeGraph,
  sharedFolder,
  startRedis,
  startScaleServer,
  TOKEN,
  waitFor,
} from './harness';

describe.skipIf(!HAVE_REDIS)('previews from a worker', () => {
  let redis: RedisProcess;
  let shared: Awaited<ReturnType<typeof sharedFolder>>;
  let server: CoserServer;
  let worker: RunWorker;

  beforeAll(async () => {
    redis = await startRedis();
    shared = await sharedFolder(1);
    server = await startScaleServer(redis.url, shared.dir);
    // A 2x1 RGB preview: red then green (planar floats).
    const executor: RunExecutor = async ({ runId, onEvent }) => {
      onEvent({ type: 'run:started', runId, nodes: ['n'] });
      const data = new Float32Array([1, 0, 0, 1, 0, 0]);
      onEvent({ type: 'node:preview', runId, node: 'n', image: { width: 2, height: 1, channels: 3, data } });
      onEvent({ type: 'run:done', runId, ms: 1, outputs: {} });
      return { status: 'done', outputs: {} };
    };
    worker = await startRunWorker({ redisUrl: redis.url, dataDir: shared.dir, executor, log: () => {} });
  });

  afterAll(async () => {
    await worker?.close();
    await server?.close();
    await redis?.stop();
    await shared?.remove();
  });

  it('sends the preview as an 8-bit PNG and does not store it', async () => {
    const socket = io(server.url, { auth: { token: TOKEN, clientKey: 'k' }, transports: ['websocket'] });
    const seen: { type: string; png?: Buffer; width?: number; seq?: number }[] = [];
    socket.on('run:event', (event: { type: string }) => seen.push(event));
    const ack = await new Promise<{ runId: string }>((done) =>
      socket.emit('run:submit', { graph: resizeGraph('in-0.png') }, done),
    );
    await waitFor(() => seen.some((e) => e.type === 'run:done'), 30_000, 'run:done');
    const preview = seen.find((e) => e.type === 'node:preview');
    expect(preview?.width).toBe(2);
    expect(preview && 'seq' in preview).toBe(false);
    const { default: sharp } = await import('sharp');
    const { data, info } = await sharp(preview?.png as Buffer)
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(info).toMatchObject({ width: 2, height: 1, channels: 3 });
    expect([...data]).toEqual([255, 0, 0, 0, 255, 0]);
    const stored = (await api(server, 'GET', `/api/runs/${ack.runId}/events`)).body['events'] as { type: string }[];
    expect(stored.map((e) => e.type)).toEqual(['run:queued', 'run:started', 'run:done']);
    socket.close();
  });
});
