// runRemote: `coser run --server` without the CLI around it. Uploads inputs, follows events (across a dropped
// connection), downloads outputs.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GraphFile } from '@coser/runtime';
import { isCoserError } from '@coser/runtime';
import sharp from 'sharp';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RemoteRunEvent, runRemote } from '../../packages/server/src/server/remote-client';
import { sleepGraph, startTestServer, type TestServer, tempDir } from './helpers';

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
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t.cleanup());

  it('survives a dropped connection: every event exactly once, in order', async () => {
    const events: RemoteRunEvent[] = [];
    let socket: Socket | undefined;
    let connects = 0;
    let dropped = false;
    const result = await runRemote({
      url: t.server.url,
      token: t.server.token,
      graph: sleepGraph(20, 15),
      outputDir: await tempDir('coser-remote-out-'),
      onConnect: (s) => {
        socket = s;
        connects += 1;
      },
      onEvent: (e) => {
        events.push(e);
        if (!dropped && e.type === 'node:progress' && e.value === 3) {
          dropped = true;
          // Drop the transport (not a clean disconnect), as a network failure would; socket.io reconnects.
          setImmediate(() => socket?.io.engine.close());
        }
      },
    });
    expect(dropped).toBe(true);
    expect(result.status).toBe('done');
    expect(connects).toBeGreaterThanOrEqual(2);
    const seqs = events.map((e) => ('seq' in e ? e.seq : undefined));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === 'node:progress')).toHaveLength(20);
    expect(result.outputs).toHaveLength(1);
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
