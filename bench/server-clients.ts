// Many socket.io clients watching one run's progress: how late does each event reach them?
// Run: node --import tsx bench/server-clients.ts [CLIENTS=200] [EVENTS=100]
//
// The server runs in this process with a fake engine that emits a node:progress event every 20 ms carrying its emit
// time (wall clock, sub-millisecond). The watchers run in a child process (their own event loop, as real clients
// would be), each subscribed with run:subscribe. Lag = receipt time - emit time over every (client, event) pair.
// Baseline: the same run watched by 1 client, measured right before in the same way.
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { RunEvent } from '@coser/runtime';
import { io, type Socket } from 'socket.io-client';
import type { RunEngine } from '../packages/server/src/server/run-engine';
import { call, connect, createFakeEngine, sleepGraph, startTestServer } from '../test/server/helpers';

const INTERVAL_MS = 20;
const now = () => performance.timeOrigin + performance.now();

/** The fake engine, but each progress event carries its emit time in its label. */
function timedEngine(events: number): RunEngine {
  const base = createFakeEngine();
  return {
    ...base,
    async execute(request) {
      if (request.graph.name !== 'timed') return base.execute(request);
      const { runId, signal, onEvent } = request;
      onEvent({ type: 'run:started', runId, nodes: ['work'] });
      for (let i = 1; i <= events && !signal.aborted; i++) {
        await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
        onEvent({ type: 'node:progress', runId, node: 'work', value: i, max: events, label: String(now()) });
      }
      onEvent({ type: 'run:done', runId, ms: events * INTERVAL_MS, outputs: {} });
      return { status: 'done', outputs: {} };
    },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Child mode: connect CLIENTS watchers, subscribe, say READY, collect lags until run:done, print them. */
async function watch(url: string, token: string, runId: string, clients: number): Promise<void> {
  const sockets: Socket[] = [];
  for (let i = 0; i < clients; i++) {
    const socket = io(url, { auth: { token, clientKey: `w${i}` }, transports: ['websocket'], forceNew: true });
    sockets.push(socket);
  }
  const lags: number[] = [];
  const finished = sockets.map(
    (socket) =>
      new Promise<void>((resolve) => {
        socket.on('run:event', (event: RunEvent) => {
          if (event.type === 'node:progress' && event.label) lags.push(now() - Number(event.label));
          if (event.type === 'run:done') resolve();
        });
      }),
  );
  await Promise.all(
    sockets.map((socket) =>
      new Promise<void>((resolve) => socket.once('connect', () => resolve())).then(() =>
        socket.timeout(30_000).emitWithAck('run:subscribe', { runId }),
      ),
    ),
  );
  process.stdout.write('READY\n');
  await Promise.all(finished);
  process.stdout.write(`${JSON.stringify(lags)}\n`);
  for (const socket of sockets) socket.close();
}

async function measure(clients: number, events: number) {
  const t = await startTestServer({
    engine: timedEngine(events),
    socket: { messagesPerSecond: 1000, messageBurst: 1000 },
  });
  try {
    const submitter = await connect(t.server, { clientKey: 'submitter' });
    // A long run holds the queue while the watchers connect; cancelling it starts the measured run.
    const blocker = await call<{ runId: string }>(submitter, 'run:submit', { graph: sleepGraph(100_000, 10) });
    const { runId } = await call<{ runId: string }>(submitter, 'run:submit', {
      graph: { ...sleepGraph(), name: 'timed' },
    });
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(import.meta.url),
        'watch',
        t.server.url,
        t.server.token,
        runId,
        String(clients),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let buffer = '';
    const lags = await new Promise<number[]>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        let newline = buffer.indexOf('\n');
        while (newline >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (line === 'READY') void call(submitter, 'run:cancel', { runId: blocker.runId });
          else if (line.startsWith('[')) resolve(JSON.parse(line) as number[]);
          newline = buffer.indexOf('\n');
        }
      });
      child.once('exit', (code) => (code ? reject(new Error(`watchers exited ${code}`)) : undefined));
    });
    submitter.close();
    return { lags: lags.sort((a, b) => a - b), expected: clients * events };
  } finally {
    await t.server.close();
    await rm(t.dataDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'watch') {
  await watch(process.argv[3]!, process.argv[4]!, process.argv[5]!, Number(process.argv[6]));
} else {
  const clients = Number(process.argv[2] ?? 200);
  const events = Number(process.argv[3] ?? 100);
  const baseline = await measure(1, events);
  const many = await measure(clients, events);
  const row = (name: string, r: typeof many) =>
    `${name.padEnd(12)} received ${String(r.lags.length).padStart(6)}/${r.expected}  p50 ${percentile(r.lags, 50).toFixed(2)} ms  ` +
    `p90 ${percentile(r.lags, 90).toFixed(2)} ms  p99 ${percentile(r.lags, 99).toFixed(2)} ms  max ${(r.lags.at(-1) ?? Number.NaN).toFixed(2)} ms`;
  console.log(`server-clients: ${events} progress events ${INTERVAL_MS} ms apart; watchers in a child process`);
  console.log(row('1 client', baseline));
  console.log(row(`${clients} clients`, many));
  const p99 = percentile(many.lags, 99);
  console.log(
    `p99 ratio ${clients} clients / 1 client: ${(p99 / percentile(baseline.lags, 99)).toFixed(1)}x` +
      `  (aim p99 < 100 ms: ${p99 < 100 ? 'met' : 'NOT met'})`,
  );
}
