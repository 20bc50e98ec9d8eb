// The server with its real engine (default registry, node host, executeGraph): upload an image, run
// load -> resize -> save over socket.io, fetch the output; file params outside the uploads folder (and the presets'
// sample images) are refused.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GraphFile } from '@coser/runtime';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, collectRun, connect, raw, startTestServer, type TestServer, tempDir } from './helpers';

const SAMPLE = join(import.meta.dirname, '../../graphs/samples/chelsea-lr.png');

function resizeGraph(path = ''): GraphFile {
  return {
    format: 'coser-graph',
    version: 1,
    name: 'server resize',
    description: '',
    nodes: [
      { id: 'load', type: 'io.loadImage', typeVersion: 1, params: { path } },
      { id: 'resize', type: 'image.resize', typeVersion: 1, params: { mode: 'scale', scale: 2, filter: 'bicubic' } },
      { id: 'save', type: 'io.saveImage', typeVersion: 1, params: { filename: 'resized', format: 'png' } },
    ],
    edges: [
      { from: { node: 'load', port: 'image' }, to: { node: 'resize', port: 'image' } },
      { from: { node: 'resize', port: 'image' }, to: { node: 'save', port: 'image' } },
    ],
    inputs: { image: { node: 'load', param: 'path' } },
  };
}

let t: TestServer;
let uploaded: string;
beforeAll(async () => {
  const modelsDir = await tempDir('coser-server-models-');
  t = await startTestServer({ engine: undefined, modelsDir });
  const res = await raw(t.server, 'POST', '/api/uploads', { body: await readFile(SAMPLE) });
  uploaded = (res.json() as { name: string }).name;
});
afterAll(async () => t.cleanup());

describe('server with the real engine', () => {
  it('serves the real node catalog', async () => {
    const catalog = (await raw(t.server, 'GET', '/api/nodes')).json() as { type: string }[];
    expect(catalog.map((c) => c.type)).toEqual(
      expect.arrayContaining(['io.loadImage', 'image.resize', 'io.saveImage']),
    );
    expect((await raw(t.server, 'GET', '/api/models')).json()).toEqual([]);
    // A catalogue model whose weights are not in node_modules (esrgan-slim/medium would be converted on first use).
    expect((await raw(t.server, 'GET', '/api/models/esrgan-thick-x8/file')).status).toBe(404);
    expect((await raw(t.server, 'GET', '/api/models/no-such-model/file')).status).toBe(404);
  });

  it('runs an uploaded image through load -> resize -> save and serves the PNG', async () => {
    const socket = await connect(t.server);
    let runId: string | undefined;
    const done = collectRun(socket, () => runId);
    const ack = await call<{ ok: boolean; runId: string }>(socket, 'run:submit', {
      graph: resizeGraph(),
      inputs: { image: uploaded },
    });
    expect(ack.ok).toBe(true);
    runId = ack.runId;
    const events = await done;
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('run:queued');
    expect(types).toContain('run:started');
    expect(types.filter((e) => e === 'node:done')).toHaveLength(3);
    expect(types.at(-1)).toBe('run:done');
    const detail = (await raw(t.server, 'GET', `/api/runs/${runId}`)).json() as {
      files: { name: string; url: string }[];
    };
    expect(detail.files.map((f) => f.name)).toEqual(['resized.png']);
    const png = await raw(t.server, 'GET', detail.files[0]!.url);
    expect(png.headers['content-type']).toBe('image/png');
    const meta = await sharp(png.body).metadata();
    expect([meta.width, meta.height]).toEqual([128, 128]);
    socket.close();
  });

  it('refuses graph params naming files outside the uploads folder', async () => {
    const socket = await connect(t.server);
    for (const path of ['/etc/passwd', '../token', '../runs.db', 'nope\u0000.png']) {
      let runId: string | undefined;
      const done = collectRun(socket, () => runId);
      const ack = await call<{ ok: boolean; runId?: string; code?: string }>(socket, 'run:submit', {
        graph: resizeGraph(path),
      });
      if (!ack.ok) {
        expect(ack.code, path).toBe('PATH_FORBIDDEN');
        continue;
      }
      runId = ack.runId;
      const final = (await done).at(-1);
      expect(final, path).toMatchObject({ type: 'run:error' });
      expect(['PATH_FORBIDDEN', 'FILE_NOT_FOUND'], path).toContain(final?.type === 'run:error' ? final.code : '');
    }
    socket.close();
  });

  it('reads the sample images the presets name (samples/…) and nothing else of graphs/', async () => {
    const socket = await connect(t.server);
    let runId: string | undefined;
    const done = collectRun(socket, () => runId);
    const ack = await call<{ ok: boolean; runId: string }>(socket, 'run:submit', {
      graph: resizeGraph('samples/chelsea-lr.png'),
    });
    expect(ack.ok).toBe(true);
    runId = ack.runId;
    expect((await done).at(-1)).toMatchObject({ type: 'run:done' });
    const detail = (await raw(t.server, 'GET', `/api/runs/${runId}`)).json() as { files: { url: string }[] };
    const meta = await sharp((await raw(t.server, 'GET', detail.files[0]!.url)).body).metadata();
    expect([meta.width, meta.height]).toEqual([128, 128]);

    for (const path of ['samples/../upscale-x4.json', 'upscale-x4.json', 'samples/../../package.json']) {
      const refused = await call<{ ok: boolean; code?: string; diagnostics?: { code: string }[] }>(
        socket,
        'run:submit',
        { graph: resizeGraph(path) },
      );
      expect(refused.ok, path).toBe(false);
      expect(
        refused.diagnostics?.map((d) => d.code),
        path,
      ).toEqual(expect.arrayContaining([expect.stringMatching(/^(PATH_FORBIDDEN|FILE_NOT_FOUND)$/)]));
    }
    socket.close();
  });

  it('rejects a bad graph at submit with diagnostics naming the node', async () => {
    const socket = await connect(t.server);
    const graph = resizeGraph(uploaded);
    graph.nodes[1]!.params['scale'] = -3;
    const ack = await call<{ ok: boolean; code: string; diagnostics: { node?: string }[] }>(socket, 'run:submit', {
      graph,
    });
    expect(ack.ok).toBe(false);
    expect(ack.diagnostics.some((d) => d.node === 'resize')).toBe(true);
    const cyclic = resizeGraph(uploaded);
    cyclic.edges.push({ from: { node: 'resize', port: 'image' }, to: { node: 'resize', port: 'image' } });
    expect(await call(socket, 'run:submit', { graph: cyclic })).toMatchObject({ ok: false });
    // Prototype keys in inputs/set (JSON.parse makes them own properties) are refused, Object.prototype untouched.
    const payload = JSON.parse(
      `{"graph": ${JSON.stringify(resizeGraph(uploaded))}, "inputs": {"__proto__": {"polluted": 1}}, "set": {"constructor.prototype.polluted": 1}}`,
    ) as unknown;
    const ack2 = await call<{ ok: boolean; code: string }>(socket, 'run:submit', payload);
    expect(ack2.ok).toBe(false);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    socket.close();
  });
});
