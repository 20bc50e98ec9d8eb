// runRemote: `coser run --server` without the CLI around it. Uploads inputs, follows events (across a dropped
// connection), downloads outputs.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GraphFile } from '@coser/runtime';
import { isCoserError } from '@coser/runtime';
import sharp from 'sharp';
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RemoteRunEvent, runRemote } from '../../packages/server/src/server/remote-client';
import { createFakeEngine, sleepGraph, startTestServer, type TestServer, tempDir, waitForStatus } from './helpers';

const SAMPLE = join(import.meta.dirname, '../../graphs/samples/astronaut-lr.png');

const resizeGraph: GraphFile = {
  format: 'coser-graph',
  version: 1,
  name: 'remote resize',
  description: '',
  nodes: [
    { id: 'load', type: 'io.loadImage', typeVersion: 1, params: { path: '' } },
    { id: 'resize', type: 'image.resize', typeVersion: 1, params: { mode: 'scale', scale: 0.5 } },
    { id: 'save', type: 'io.saveImage', typeVersion: 1, params: { filename: '{name}-half', format: 'png' } },
  ],
  edges: [
    { from: { node: 'load', port: 'image' }, to: { node: 'resize', port: 'image' } },
    { from: { node: 'resize', port: 'image' }, to: { node: 'save', port: 'image' } },
  ],
  inputs: { image: { node: 'load', param: 'path' } },
};

describe('runRemote with the real engine', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ engine: undefined, modelsDir: await tempDir('coser-remote-models-') });
  });
  afterAll(async () => t.cleanup());

  it('uploads the input, reports events in order and downloads the output', async () => {
    const outputDir = await tempDir('coser-remote-out-');
    const events: RemoteRunEvent[] = [];
    const result = await runRemote({
      url: t.server.url,
      token: t.server.token,
      graph: JSON.stringify(resizeGraph),
      inputs: { image: SAMPLE },
      outputDir,
      onEvent: (e) => events.push(e),
    });
    expect(result.status).toBe('done');
    expect(events[0]?.type).toBe('run:queued');
    expect(events.at(-1)?.type).toBe('run:done');
    expect(result.outputs).toHaveLength(1);
    expect(await readdir(outputDir)).toHaveLength(1);
    const meta = await sharp(await readFile(result.outputs[0]!)).metadata();
    expect([meta.width, meta.height]).toEqual([32, 32]);
  });

  it('throws the server’s refusals as CoserErrors: wrong token, invalid graph, missing input file', async () => {
    const outputDir = await tempDir('coser-remote-out-');
    const base = { url: t.server.url, outputDir };
    await expect(runRemote({ ...base, token: 'wrong', graph: resizeGraph })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    const bad = structuredClone(resizeGraph);
    bad.nodes[1]!.type = 'image.unknown';
    const error = await runRemote({ ...base, token: t.server.token, graph: bad, inputs: { image: SAMPLE } }).catch(
      (e: unknown) => e,
    );
    expect(isCoserError(error) && error.code).toBe('UNKNOWN_NODE_TYPE');
    expect(isCoserError(error) && Array.isArray(error.cause) && error.cause.length).toBeGreaterThan(0);
    await expect(
      runRemote({ ...base, token: t.server.token, graph: resizeGraph, inputs: { image: '/no/such/file.png' } }),
    ).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });
});

describe('runRemote with the fake engine', () => {
  let t: TestServer;
  const engine = createFakeEngine();
  beforeAll(async () => {
    t = await startTestServer({ engine });
  });
  afterAll(async () => t.cleanup());
  afterEach(() => {
    delete engine.hooks.beforeStep;
  });

  /** Runs a 20-step sleep graph, dropping the transport (not a clean disconnect, as a network failure would) at step 3. */
  async function runWithDrop(onDrop: (socket: Socket, runId: string) => void) {
    const events: RemoteRunEvent[] = [];
    let socket: Socket | undefined;
    let connects = 0;
    const result = await runRemote({
      url: t.server.url,
      token: t.server.token,
      graph: sleepGraph(20, 5),
      outputDir: await tempDir('coser-remote-out-'),
      onConnect: (s) => {
        socket = s;
        connects += 1;
      },
      onEvent: (e) => {
        events.push(e);
        if (connects === 1 && e.type === 'node:progress' && e.value === 3) {
          const dropped = socket;
          if (dropped) setImmediate(() => onDrop(dropped, e.runId));
        }
      },
    });
    expect(connects).toBeGreaterThanOrEqual(2);
    expect(result.status).toBe('done');
    expect(result.outputs).toHaveLength(1);
    return events.map((e) => ('seq' in e ? e.seq : undefined));
  }

  it('survives a dropped connection mid-run: every event exactly once, in order', async () => {
    // Step 4 waits until the client is back, so the resubscribe races live events of a running run.
    let reconnected!: () => void;
    const back = new Promise<void>((resolve) => {
      reconnected = resolve;
    });
    engine.hooks.beforeStep = (step) => (step === 4 ? back : undefined);
    const seqs = await runWithDrop((socket) => {
      socket.once('connect', () => reconnected());
      socket.io.engine.close();
    });
    // queued, started, node:started, 20 progress, node:done, run:done.
    expect(seqs).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  });

  it('after a run ended while disconnected, replays what was missed with progress compacted to the last value', async () => {
    const seqs = await runWithDrop((socket, runId) => {
      socket.io.reconnection(false);
      socket.io.engine.close();
      void waitForStatus(t.server, runId, ['done']).then(() => {
        socket.io.reconnection(true);
        socket.connect();
      });
    });
    // 1-6 live (up to progress 3); then the stored history: the last progress (23), node:done, run:done.
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 23, 24, 25]);
  });

  it('cancels the run on the server when the signal aborts', async () => {
    const controller = new AbortController();
    const result = await runRemote({
      url: t.server.url,
      token: t.server.token,
      graph: sleepGraph(1000, 10),
      outputDir: await tempDir('coser-remote-out-'),
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'node:progress') controller.abort();
      },
    });
    expect(result.status).toBe('cancelled');
    expect(result.outputs).toEqual([]);
  });
});
