// Shared by the scale-out tests and bench/scale-throughput.ts: a real redis-server on a free loopback port, `coser
// worker` child processes, servers started with the Redis options, small real graphs, and REST helpers.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { GraphFile } from '@coser/runtime';
import { redisServerOptions } from '../../packages/server/src/scale/redis-server-options';
import { type CoserServer, createServer } from '../../packages/server/src/server/create-server';

export const REDIS_SERVER = '/usr/bin/redis-server';
export const HAVE_REDIS = existsSync(REDIS_SERVER);
if (!HAVE_REDIS) console.warn(`test/scale skipped: ${REDIS_SERVER} is missing (apt-get install redis-server)`);
const REPO = resolve(import.meta.dirname, '../..');
const COSER = join(REPO, 'packages/server/bin/coser.js');
export const TOKEN = 'scale-test-token';

export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface RedisProcess {
  readonly url: string;
  readonly port: number;
  /** Kills it (SIGKILL: like a crash; only what the append-only file already holds survives). */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty unless it runs with an append-only file). */
  start(): Promise<void>;
}

/**
 * Starts `redis-server` on a free 127.0.0.1 port, without persistence unless `appendonlyDir` is given (then with
 * `appendonly yes` in that folder, as docs/scaling.md recommends).
 */
export async function startRedis(options: { appendonlyDir?: string } = {}): Promise<RedisProcess> {
  const port = await freePort();
  const persistence = options.appendonlyDir
    ? ['--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', options.appendonlyDir]
    : ['--appendonly', 'no'];
  let child: ChildProcess | undefined;
  const start = async () => {
    const proc = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    await new Promise<void>((ready, fail) => {
      let out = '';
      const timer = setTimeout(() => fail(new Error(`redis-server did not start: ${out}`)), 10_000);
      proc.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          ready();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`redis-server exited (${code}): ${out}`));
      });
    });
  };
  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((done) => proc.once('exit', done));
    proc.kill('SIGKILL');
    await exited;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, start, stop };
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Everything it printed (stdout + stderr). */
  output(): string;
  /** Run ids it started, in order (from its `run ID attempt N started` log lines). */
  started(): string[];
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `coser worker` as a child process and waits for its `ready` line. */
export async function startWorker(redisUrl: string, dataDir: string, extra: string[] = []): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [COSER, 'worker', '--redis', redisUrl, '--data', dataDir, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: REPO,
  });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`worker did not start: ${out}`)), 60_000);
    const check = () => {
      if (out.includes(' ready (')) {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        ready();
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`worker exited (${code}): ${out}`));
    });
  });
  return {
    child,
    output: () => out,
    started: () => [...out.matchAll(/run ([0-9a-f-]{36}) attempt \d+ started/g)].map((m) => m[1] ?? ''),
    async kill(signal = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((done) => child.once('exit', done));
      child.kill(signal);
      await exited;
    },
  };
}

/** A `coser serve --redis` equivalent in this process on port 0. */
export async function startScaleServer(redisUrl: string, dataDir: string): Promise<CoserServer> {
  return createServer({
    dataDir,
    port: 0,
    token: TOKEN,
    editorDir: false,
    restPerSecond: 1000,
    log: () => {},
    ...(await redisServerOptions({ redisUrl })),
  });
}

/** A fresh shared folder with `count` copies of a sample image in `uploads/` (in-0.png, in-1.png, ...). */
export async function sharedFolder(count: number): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'coser-scale-'));
  await mkdir(join(dir, 'uploads'), { recursive: true });
  for (let i = 0; i < count; i++) {
    await copyFile(join(REPO, 'graphs/samples/chelsea-lr.png'), join(dir, 'uploads', `in-${i}.png`));
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * load -> `pairs` x (Lanczos x`scale` up, then back down) -> save. Each input file is a different name, so runs
 * never share the worker's output cache. pairs = 1, scale = 2: ~0.1 s; scale = 16: ~0.6 s per pair.
 */
export function resizeGraph(input: string, pairs = 1, scale = 2): GraphFile {
  const nodes: GraphFile['nodes'] = [{ id: 'load', type: 'io.loadImage', typeVersion: 1, params: { path: input } }];
  const edges: GraphFile['edges'] = [];
  let previous = 'load';
  for (let i = 0; i < pairs; i++) {
    for (const [id, factor] of [
      [`up${i}`, scale],
      [`down${i}`, 1 / scale],
    ] as const) {
      nodes.push({
        id,
        type: 'image.resize',
        typeVersion: 1,
        params: { mode: 'scale', scale: factor, filter: 'lanczos' },
      });
      edges.push({ from: { node: previous, port: 'image' }, to: { node: id, port: 'image' } });
      previous = id;
    }
  }
  nodes.push({ id: 'save', type: 'io.saveImage', typeVersion: 1, params: { filename: 'out', format: 'png' } });
  edges.push({ from: { node: previous, port: 'image' }, to: { node: 'save', port: 'image' } });
  return { format: 'coser-graph', version: 1, name: `resize ${input}`, description: '', nodes, edges, inputs: {} };
}

/** REST with the test token; returns status and parsed JSON (or the raw bytes for files). */
export async function api(
  server: { url: string },
  method: string,
  path: string,
  body?: unknown,
  clientKey = 'k',
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'x-coser-client': clientKey,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: response.status, body: parsed };
}

export async function submit(server: { url: string }, graph: GraphFile): Promise<string> {
  const answer = await api(server, 'POST', '/api/runs', { graph });
  if (answer.status !== 202) throw new Error(`submit failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body['runId'] as string;
}

export async function runStatus(server: { url: string }, runId: string): Promise<string | undefined> {
  const answer = await api(server, 'GET', `/api/runs/${runId}`);
  return answer.status === 200 ? (answer.body['status'] as string) : undefined;
}

const FINAL = new Set(['done', 'error', 'cancelled', 'interrupted']);

/** Polls until every run is final; returns id -> status. */
export async function waitFinal(
  server: { url: string },
  ids: string[],
  timeoutMs = 60_000,
): Promise<Record<string, string>> {
  const statuses: Record<string, string> = {};
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const id of ids) {
      if (!FINAL.has(statuses[id] ?? '')) statuses[id] = (await runStatus(server, id)) ?? 'missing';
    }
    if (ids.every((id) => FINAL.has(statuses[id] ?? ''))) return statuses;
    if (Date.now() > deadline) throw new Error(`runs not final after ${timeoutMs} ms: ${JSON.stringify(statuses)}`);
    await sleep(100);
  }
}

export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
