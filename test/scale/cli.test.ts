// The command line of the scale-out: `coser serve --redis` and `coser worker` as separate processes, a run through
// them, clean stops on SIGTERM, and usage errors.
import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  HAVE_REDIS,
  type RedisProcess,
  resizeGraph,
  sharedFolder,
  startRedis,
  startWorker,
  submit,
  TOKEN,
  type WorkerProcess,
  waitFinal,
} from './harness';

const COSER = join(resolve(import.meta.dirname, '../..'), 'packages/server/bin/coser.js');

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((done) => child.once('exit', (code) => done(code)));
}

describe.skipIf(!HAVE_REDIS)('coser serve --redis and coser worker', () => {
  let redis: RedisProcess;
  let shared: Awaited<ReturnType<typeof sharedFolder>>;
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    shared = await sharedFolder(1);
  });

  afterAll(async () => {
    await worker?.kill('SIGKILL');
    await redis?.stop();
    await shared?.remove();
  });

  it('runs a graph submitted to the server on the worker, and both stop cleanly on SIGTERM', async () => {
    const serve = spawn(process.execPath, [COSER, 'serve', '--redis', redis.url, '--port', '0', '--data', shared.dir], {
      env: { ...process.env, COSER_TOKEN: TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    serve.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    serve.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const serveExit = exited(serve);
    const url = await new Promise<string>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`serve did not start: ${out}`)), 60_000);
      serve.stdout?.on('data', () => {
        const match = /listening on (http:\S+)/.exec(out);
        if (match?.[1]) {
          clearTimeout(timer);
          done(match[1]);
        }
      });
    });
    worker = await startWorker(redis.url, shared.dir);
    const runId = await submit({ url }, resizeGraph('in-0.png'));
    expect(await waitFinal({ url }, [runId], 60_000)).toEqual({ [runId]: 'done' });
    expect((await api({ url }, 'GET', `/api/runs/${runId}`)).body['files']).toEqual([
      expect.objectContaining({ name: 'out.png' }),
    ]);

    worker.child.kill('SIGTERM');
    serve.kill('SIGTERM');
    expect(await exited(worker.child)).toBe(0);
    expect(await serveExit).toBe(0);
    expect(worker.output()).toContain('coser worker stopped');
    expect(out).toContain('coser server stopped');
  }, 150_000);

  it('refuses a --redis that is not a redis:// URL with exit code 2', async () => {
    const child = spawn(process.execPath, [COSER, 'worker', '--redis', 'localhost:6379'], { stdio: 'pipe' });
    let err = '';
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    expect(await exited(child)).toBe(2);
    expect(err).toContain('error USAGE');
  }, 150_000);
});
