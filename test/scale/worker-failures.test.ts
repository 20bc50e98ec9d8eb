// How a worker fails runs: an allocation failure is OUT_OF_MEMORY and the worker keeps serving (in-process worker,
// the real executor wrapped); a run whose workers keep dying fails with a reason after --max-attempts.

import { DEFAULT_LIMITS } from '@coser/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunWorker, startRunWorker } from '../../packages/server/src/scale/run-worker';
import type { CoserServer } from '../../packages/server/src/server/create-server';
import { createDefaultEngine } from '../../packages/server/src/server/default-engine';
import type { RunExecutor } from '../../packages/server/src/server/run-engine';
import {
  api,
  HAVE_REDIS,
  type RedisProcess,
  resizeGraph,
  sharedFolder,
  startRedis,
  startScaleServer,
  startWorker,
  submit,
  type WorkerProcess,
  waitFinal,
  waitFor,
} from './harness';

describe.skipIf(!HAVE_REDIS)('worker failures', () => {
  let redis: RedisProcess;
  let shared: Awaited<ReturnType<typeof sharedFolder>>;
  let server: CoserServer;
  let inProcess: RunWorker | undefined;
  const children: WorkerProcess[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    shared = await sharedFolder(4);
    server = await startScaleServer(redis.url, shared.dir);
  });

  afterAll(async () => {
    await inProcess?.close({ force: true });
    await Promise.all(children.map((w) => w.kill('SIGKILL')));
    await server?.close();
    await redis?.stop();
    await shared?.remove();
  });

  it('fails a run that runs out of memory with OUT_OF_MEMORY and serves the next one', async () => {
    const engine = createDefaultEngine({
      dataDir: shared.dir,
      uploadsDir: `${shared.dir}/uploads`,
      limits: DEFAULT_LIMITS,
    });
    // What V8 throws when a typed array cannot be allocated, from inside a real execution.
    const executor: RunExecutor = async (request) => {
      if (request.graph.name === 'resize in-0.png') throw new RangeError('Array buffer allocation failed');
      return engine.execute(request);
    };
    // Every worker of a deployment uses the same lock time: BullMQ's stalled check runs once per the last interval set.
    inProcess = await startRunWorker({
      redisUrl: redis.url,
      dataDir: shared.dir,
      executor,
      lockDurationMs: 4000,
      log: () => {},
    });
    const oom = await submit(server, resizeGraph('in-0.png'));
    const next = await submit(server, resizeGraph('in-1.png'));
    expect(await waitFinal(server, [oom, next], 60_000)).toEqual({ [oom]: 'error', [next]: 'done' });
    const detail = await api(server, 'GET', `/api/runs/${oom}`);
    expect(detail.body['error']).toMatchObject({ code: 'OUT_OF_MEMORY' });
    const events = (await api(server, 'GET', `/api/runs/${oom}/events`)).body['events'] as { type: string }[];
    expect(events.at(-1)).toMatchObject({ type: 'run:error', code: 'OUT_OF_MEMORY' });
    await inProcess.close();
    inProcess = undefined;
  }, 150_000);

  it('fails a run with a reason once its workers stopped --max-attempts times', async () => {
    const flags = ['--lock-ms', '4000', '--max-attempts', '1'];
    children.push(
      ...(await Promise.all([startWorker(redis.url, shared.dir, flags), startWorker(redis.url, shared.dir, flags)])),
    );
    const runId = await submit(server, resizeGraph('in-2.png', 20, 16));
    await waitFor(() => children.some((w) => w.started().includes(runId)), 60_000, 'a worker to start the run');
    await children.find((w) => w.started().includes(runId))?.kill('SIGKILL');
    expect(await waitFinal(server, [runId], 60_000)).toEqual({ [runId]: 'error' });
    const detail = await api(server, 'GET', `/api/runs/${runId}`);
    expect(detail.body['error']).toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/worker stopped/) });
    expect(detail.body['files']).toEqual([]);
  }, 150_000);
});
