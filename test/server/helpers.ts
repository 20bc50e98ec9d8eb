// Shared by the server integration tests: a fake engine (timed, cancellable "sleep" runs, so the queue and protocol
// are tested without models or codecs), a server factory on 127.0.0.1 port 0, socket clients and raw HTTP.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CatalogEntry, Diagnostic, GraphFile, RunEvent } from '@coser/runtime';
import { createImage, createRegistry, defineNode, hasErrors, loadGraph, port, validateGraph } from '@coser/runtime';
import { io, type Socket } from 'socket.io-client';
import { z } from 'zod';
import {
  type CoserServer,
  type CreateServerOptions,
  createServer,
} from '../../packages/server/src/server/create-server';
import type { ExecuteOutcome, RunEngine } from '../../packages/server/src/server/run-engine';

/** A graph the fake engine runs: one `test.sleep` node that takes `steps` steps of `ms` each. */
export function sleepGraph(steps = 3, ms = 20, extra: Record<string, unknown> = {}): GraphFile {
  return {
    format: 'coser-graph',
    version: 1,
    name: 'sleep test',
    description: '',
    nodes: [{ id: 'work', type: 'test.sleep', typeVersion: 1, params: { steps, ms, ...extra } }],
    edges: [],
    inputs: {},
  };
}

/** The fake engine's node types: validation (cycles, ports, params) is the real `validateGraph` over these. */
const testRegistry = createRegistry([
  defineNode({
    type: 'test.sleep',
    typeVersion: 1,
    title: 'Sleep',
    category: 'test',
    description: 'Takes `steps` steps of `ms` milliseconds.',
    inputs: { after: port.number({ optional: true }) },
    outputs: { done: port.number() },
    params: z.object({
      steps: z.number().int().min(0).max(100_000).default(1).describe('steps'),
      ms: z.number().min(0).max(10_000).default(10).describe('milliseconds per step'),
      fail: z.boolean().default(false).describe('end with NODE_FAILED'),
      preview: z.boolean().default(false).describe('send a 4x2 preview image every step'),
    }),
    async execute() {
      return { done: 1 };
    },
  }),
]);

/** What a test can hook into: `beforeStep` may hold a step back (e.g. until a client has reconnected). */
export interface FakeEngineHooks {
  beforeStep?: (step: number) => Promise<void> | undefined;
}

/** Runs graphs of `test.sleep` nodes: progress per step, a file per run, honours cancellation. */
export function createFakeEngine(): RunEngine & { executed: string[]; hooks: FakeEngineHooks } {
  const executed: string[] = [];
  const hooks: FakeEngineHooks = {};
  return {
    executed,
    hooks,
    catalog: (): CatalogEntry[] => testRegistry.catalog(),
    async prepare(request) {
      const loaded = loadGraph(request.graph);
      if (!loaded.graph || hasErrors(loaded.diagnostics)) return { diagnostics: loaded.diagnostics };
      const diagnostics: Diagnostic[] = validateGraph(loaded.graph, testRegistry);
      return { graph: loaded.graph, diagnostics };
    },
    async execute({ runId, graph, outputDir, signal, onEvent }): Promise<ExecuteOutcome> {
      executed.push(runId);
      const started = Date.now();
      onEvent({ type: 'run:started', runId, nodes: graph.nodes.map((n) => n.id) });
      for (const node of graph.nodes) {
        const steps = Number(node.params['steps'] ?? 1);
        const ms = Number(node.params['ms'] ?? 10);
        onEvent({ type: 'node:started', runId, node: node.id });
        for (let step = 1; step <= steps; step++) {
          await hooks.beforeStep?.(step);
          await new Promise((resolve) => setTimeout(resolve, ms));
          if (signal.aborted) {
            onEvent({ type: 'run:cancelled', runId, node: node.id });
            return { status: 'cancelled', outputs: {} };
          }
          onEvent({ type: 'node:progress', runId, node: node.id, value: step, max: steps });
          if (node.params['preview']) {
            const image = createImage(4, 2, 3, new Float32Array(24).fill(step / steps));
            onEvent({ type: 'node:preview', runId, node: node.id, image });
          }
        }
        if (node.params['fail']) {
          const error = { code: 'NODE_FAILED' as const, message: 'asked to fail', node: node.id };
          onEvent({ type: 'node:error', runId, ...error });
          onEvent({ type: 'run:error', runId, ...error });
          return { status: 'error', outputs: {}, error };
        }
        onEvent({ type: 'node:done', runId, node: node.id, ms: steps * ms, cached: false });
      }
      const path = join(outputDir, 'result.txt');
      await writeFile(path, `run ${runId}\n`);
      const outputs = { work: { file: { kind: 'file' as const, path } } };
      onEvent({ type: 'run:done', runId, ms: Date.now() - started, outputs });
      return { status: 'done', outputs };
    },
    listModels: async () => [],
    modelFile: async () => {
      throw new Error('no models in the fake engine');
    },
  };
}

export interface TestServer {
  server: CoserServer;
  dataDir: string;
  /** Closes the server (if still open) and removes the data folder. */
  cleanup(): Promise<void>;
}

export async function tempDir(prefix = 'coser-server-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A server on 127.0.0.1:0 with the fake engine (unless given another) and a fresh data folder. */
export async function startTestServer(options: Partial<CreateServerOptions> = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await tempDir());
  // `engine: undefined` given explicitly: the server's real default engine.
  const engine = 'engine' in options ? options.engine : createFakeEngine();
  const server = await createServer({
    token: 'test-token-0123456789abcdef',
    editorDir: false,
    log: () => {},
    ...options,
    dataDir,
    ...(engine ? { engine } : {}),
  });
  return {
    server,
    dataDir,
    async cleanup() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A connected socket.io client (rejects with the connect error's message, e.g. UNAUTHORIZED). */
export function connect(
  server: CoserServer,
  options: { token?: string; clientKey?: string; origin?: string } = {},
): Promise<Socket> {
  const socket = io(server.url, {
    auth: { token: options.token ?? server.token, clientKey: options.clientKey ?? 'client-a' },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...(options.origin ? { extraHeaders: { origin: options.origin } } : {}),
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

/** Emits with an ack and resolves with the answer. */
export function call<T = Record<string, unknown>>(socket: Socket, event: string, payload: unknown): Promise<T> {
  return socket.timeout(10_000).emitWithAck(event, payload) as Promise<T>;
}

/**
 * Collects `run:event`s of one run until its final event. Events of every run are buffered from the start, since a
 * run's first event may arrive before the submit's ack has told the caller its id.
 */
export function collectRun(socket: Socket, runId: () => string | undefined): Promise<(RunEvent & { seq?: number })[]> {
  const all: (RunEvent & { seq?: number })[] = [];
  return new Promise((resolve) => {
    const listener = (event: RunEvent & { seq?: number }) => {
      all.push(event);
      const id = runId();
      if (id === undefined) return;
      if (
        all.some(
          (e) => e.runId === id && (e.type === 'run:done' || e.type === 'run:error' || e.type === 'run:cancelled'),
        )
      ) {
        socket.off('run:event', listener);
        resolve(all.filter((e) => e.runId === id));
      }
    };
    socket.on('run:event', listener);
  });
}

/** Waits for a run to reach one of `statuses` (polling the queue directly). */
export async function waitForStatus(server: CoserServer, runId: string, statuses: string[], timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const record = await server.scheduler.queue.get(runId);
    if (record && statuses.includes(record.status)) return record;
    if (Date.now() > deadline) throw new Error(`run ${runId} stayed ${record?.status}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json(): unknown;
}

/** An HTTP request with the path sent exactly as given (fetch would normalise `../`). */
export function raw(
  server: CoserServer,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: Buffer | string; token?: string | null } = {},
): Promise<RawResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== null) headers['authorization'] = `Bearer ${options.token ?? server.token}`;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString()) });
      });
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** The `error.code` of a JSON error body. */
export function errorCode(response: RawResponse): string | undefined {
  try {
    return (response.json() as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}
