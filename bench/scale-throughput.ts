// Scale-out figures with a real redis-server and `coser worker` processes (docs/scaling.md):
//  1. runs per minute of a small graph (load 64x64 PNG -> 2 x (Lanczos x16, back down) -> save PNG) with 1 and with 2
//     workers, and the ratio (2 workers / 1; bounded by the machine's cores);
//  2. time from submit to a worker starting the run (record.startedAt - submit), idle workers, one run at a time;
//  3. RUNS_KILL runs while a worker is SIGKILLed at random every 1-3 s and replaced: every run must reach a final
//     state exactly once (one final event, one output file for done runs).
// Run: npm run bench -- scale-throughput [RUNS=16] [RUNS_KILL=100]
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CoserServer } from '../packages/server/src/server/create-server';
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
  type WorkerProcess,
  waitFinal,
} from '../test/scale/harness';

const RUNS = Number(process.argv[2] ?? 16);
const RUNS_KILL = Number(process.argv[3] ?? 100);
if (!HAVE_REDIS) {
  console.error('scale-throughput needs /usr/bin/redis-server');
  process.exit(2);
}

let input = 0;
// Two x16 Lanczos up/down pairs (~1 s of work on an idle core): the work, not the queue's overhead, dominates.
// Inputs are distinct files, so no run hits a worker's output cache.
const graph = () => resizeGraph(`in-${input++}.png`, 2, 16);
// ~0.7 s: long enough for kills to land mid-run.
const slowGraph = () => resizeGraph(`in-${input++}.png`, 1, 16);

/** Wall time from `since` (ms epoch) to the last run's finishedAt: polling granularity does not count. */
async function lastFinish(server: CoserServer, ids: string[], since: number): Promise<number> {
  let last = since;
  for (const id of ids) {
    const detail = await api(server, 'GET', `/api/runs/${id}`);
    last = Math.max(last, Date.parse(detail.body['finishedAt'] as string));
  }
  return last - since;
}

async function throughput(server: CoserServer, workers: number): Promise<number> {
  const started = Date.now();
  const ids: string[] = [];
  for (let i = 0; i < RUNS; i++) ids.push(await submit(server, graph()));
  const statuses = await waitFinal(server, ids, 600_000);
  const ms = await lastFinish(server, ids, started);
  const bad = Object.values(statuses).filter((s) => s !== 'done').length;
  const perMinute = (RUNS / ms) * 60_000;
  console.log(
    `${workers} worker(s): ${RUNS} runs in ${(ms / 1000).toFixed(1)} s = ${perMinute.toFixed(0)} runs/min${bad ? ` (${bad} not done!)` : ''}`,
  );
  return perMinute;
}

async function startLatency(server: CoserServer): Promise<void> {
  const waits: number[] = [];
  for (let i = 0; i < 10; i++) {
    const submitted = Date.now();
    const id = await submit(server, graph());
    await waitFinal(server, [id]);
    const detail = await api(server, 'GET', `/api/runs/${id}`);
    waits.push(Date.parse(detail.body['startedAt'] as string) - submitted);
  }
  waits.sort((a, b) => a - b);
  console.log(`submit -> worker start (idle workers, 10 runs): p50 ${waits[5]} ms, max ${waits[9]} ms`);
}

async function randomKills(
  server: CoserServer,
  redisUrl: string,
  dir: string,
  workers: WorkerProcess[],
): Promise<void> {
  const flags = ['--lock-ms', '1500', '--max-attempts', '5'];
  const ids: string[] = [];
  for (let i = 0; i < RUNS_KILL; i++) ids.push(await submit(server, slowGraph()));
  let kills = 0;
  let stop = false;
  const killer = (async () => {
    while (!stop) {
      await sleep(1000 + Math.random() * 2000);
      if (stop) break;
      const index = Math.floor(Math.random() * workers.length);
      await workers[index]?.kill('SIGKILL');
      kills += 1;
      workers[index] = await startWorker(redisUrl, dir, flags);
    }
  })();
  const started = performance.now();
  const statuses = await waitFinal(server, ids, 600_000);
  stop = true;
  await killer;
  const ms = performance.now() - started;
  let retried = 0;
  let duplicated = 0;
  let badFiles = 0;
  for (const id of ids) {
    const events = (await api(server, 'GET', `/api/runs/${id}/events`)).body['events'] as { type: string }[];
    const finals = events.filter((e) => e.type === 'run:done' || e.type === 'run:error' || e.type === 'run:cancelled');
    if (finals.length !== 1) duplicated += 1;
    if (events.filter((e) => e.type === 'run:started').length > 1) retried += 1;
    if (statuses[id] === 'done') {
      const files = await readdir(join(dir, 'runs', id)).catch(() => []);
      if (files.join() !== 'out.png') badFiles += 1;
    }
  }
  for (const id of ids) {
    if (statuses[id] === 'done') continue;
    const detail = await api(server, 'GET', `/api/runs/${id}`);
    console.log(`  run ${id} ${statuses[id]}: ${JSON.stringify(detail.body['error'])}`);
  }
  const counts: Record<string, number> = {};
  for (const status of Object.values(statuses)) counts[status] = (counts[status] ?? 0) + 1;
  console.log(
    `${RUNS_KILL} runs, ${kills} worker kills in ${(ms / 1000).toFixed(1)} s: final ${JSON.stringify(counts)}, ` +
      `${retried} retried, ${duplicated} with other than one final event, ${badFiles} done runs without exactly one output`,
  );
}

let redis: RedisProcess | undefined;
const workers: WorkerProcess[] = [];
const shared = await sharedFolder(RUNS * 2 + RUNS_KILL + 20);
try {
  redis = await startRedis();
  const server = await startScaleServer(redis.url, shared.dir);
  const flags = ['--lock-ms', '1500', '--max-attempts', '5'];
  workers.push(await startWorker(redis.url, shared.dir, flags));
  // Warm-up: the first run of a worker loads the codecs.
  await waitFinal(server, [await submit(server, graph())]);
  const one = await throughput(server, 1);
  workers.push(await startWorker(redis.url, shared.dir, flags));
  await waitFinal(server, [await submit(server, graph()), await submit(server, graph())]);
  const two = await throughput(server, 2);
  console.log(`ratio 2 workers / 1 worker: ${(two / one).toFixed(2)}x`);
  await startLatency(server);
  await randomKills(server, redis.url, shared.dir, workers);
  await server.close();
} finally {
  await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  await redis?.stop();
  await shared.remove();
}
