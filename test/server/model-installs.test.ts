// The server's model manager: `GET /api/models/catalogue` and `POST /api/models/:name/install` with the real engine
// on an empty models folder (esrgan-slim-x2 converts from the npm package in node_modules), progress over the
// socket, one install per model at a time, the token and origin rules of /api, and failures with stable codes.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { InstallState } from '@coser/nodes';
import { CoserError } from '@coser/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, createFakeEngine, errorCode, raw, startTestServer, type TestServer, tempDir } from './helpers';

const MODEL = 'esrgan-slim-x2';

interface CatalogueBody {
  models: { name: string; installed: boolean; downloadMB: number; sizeBytes?: number; install?: InstallState }[];
}

let t: TestServer;
let modelsDir: string;
beforeAll(async () => {
  modelsDir = await tempDir('coser-install-models-');
  t = await startTestServer({ engine: undefined, modelsDir });
});
afterAll(async () => t.cleanup());

describe('model installs on the server', () => {
  it('lists the catalogue with what is installed, under the same token and origin rules as /api', async () => {
    expect((await raw(t.server, 'GET', '/api/models/catalogue', { token: null })).status).toBe(401);
    expect(errorCode(await raw(t.server, 'POST', `/api/models/${MODEL}/install`, { token: 'wrong' }))).toBe(
      'UNAUTHORIZED',
    );
    const foreign = await raw(t.server, 'POST', `/api/models/${MODEL}/install`, {
      headers: { origin: 'http://evil.example' },
    });
    expect(foreign.status).toBe(403);
    expect(errorCode(foreign)).toBe('FORBIDDEN_ORIGIN');
    // Nothing was started by the refused requests.
    expect(existsSync(join(modelsDir, `${MODEL}.json`))).toBe(false);

    const body = (await raw(t.server, 'GET', '/api/models/catalogue')).json() as CatalogueBody;
    const entry = body.models.find((m) => m.name === MODEL);
    expect(entry).toMatchObject({ installed: false, downloadMB: 0 });
    expect(entry?.install).toBeUndefined();
    expect(body.models.find((m) => m.name === 'esrgan-thick-x4')).toMatchObject({ installed: false, downloadMB: 110 });
  });

  it('installs a catalogue model with progress over the socket; a second request joins the running install', async () => {
    const socket = await connect(t.server);
    const seen: InstallState[] = [];
    const finished = new Promise<InstallState>((resolve) => {
      socket.on('model:install', (state: InstallState) => {
        seen.push(state);
        if (state.name === MODEL && state.state !== 'running') resolve(state);
      });
    });
    const first = await raw(t.server, 'POST', `/api/models/${MODEL}/install`);
    expect(first.status).toBe(202);
    const started = (first.json() as { install: InstallState }).install;
    expect(started).toMatchObject({ name: MODEL, state: 'running' });
    const second = (await raw(t.server, 'POST', `/api/models/${MODEL}/install`)).json() as { install: InstallState };
    // One install per model: the second request got the same job (same start), not a second conversion.
    if (second.install.state === 'running') expect(second.install.startedAt).toBe(started.startedAt);

    const final = await finished;
    socket.close();
    expect(final.error).toBeUndefined();
    expect(final).toMatchObject({ state: 'done', name: MODEL });
    expect(final.sha256).toMatch(/^[0-9a-f]{64}$/);
    // Every step was reported, in order, with its index out of the count.
    const steps = seen
      .filter((s) => s.progress)
      .map((s) => `${s.progress!.index}/${s.progress!.count} ${s.progress!.step}`);
    expect([...new Set(steps)]).toEqual(['1/3 fetch', '2/3 convert', '3/3 write']);
    expect(seen.some((s) => s.message?.includes('converting'))).toBe(true);

    // The install is visible everywhere the models are listed.
    const installed = (await raw(t.server, 'GET', '/api/models')).json() as { name: string; sha256: string }[];
    expect(installed.map((m) => m.name)).toEqual([MODEL]);
    expect(installed[0]!.sha256).toBe(final.sha256);
    const body = (await raw(t.server, 'GET', '/api/models/catalogue')).json() as CatalogueBody;
    const entry = body.models.find((m) => m.name === MODEL);
    expect(entry?.installed).toBe(true);
    expect(entry?.sizeBytes).toBeGreaterThan(100_000);
    expect(entry?.install?.state).toBe('done');
    expect((await raw(t.server, 'GET', `/api/models/${MODEL}/file`)).body.length).toBe(entry?.sizeBytes);
  }, 120_000);

  it('refuses names outside the catalogue with MODEL_MISSING before starting anything', async () => {
    for (const name of ['no-such-model', 'bad%20name%21', 'weights.pth']) {
      const res = await raw(t.server, 'POST', `/api/models/${name}/install`);
      expect(res.status).toBe(404);
      expect(errorCode(res)).toBe('MODEL_MISSING');
    }
    const body = (await raw(t.server, 'GET', '/api/models/catalogue')).json() as CatalogueBody;
    expect(body.models.filter((m) => m.install).map((m) => m.name)).toEqual([MODEL]);
  });
});

describe('model install failures', () => {
  it('reports a failed install with its stable code and keeps serving; the next install of it runs again', async () => {
    const engine = createFakeEngine();
    let attempts = 0;
    engine.catalogue = async () => [
      {
        name: 'fake-x2',
        title: 'Fake x2',
        description: '',
        scale: 2,
        licence: 'MIT',
        downloadMB: 1,
        default: false,
        inCatalogue: true,
        installed: false,
      },
    ];
    engine.installModel = async (name, { onProgress }) => {
      attempts++;
      onProgress({ step: 'fetch', index: 1, count: 3 });
      if (attempts === 1) throw new CoserError('DISK_FULL', `cannot write ${name}.onnx: no space left on device`);
      return { name, sha256: 'a'.repeat(64), sizeBytes: 10 };
    };
    const s = await startTestServer({ engine });
    try {
      const socket = await connect(s.server);
      const ends: InstallState[] = [];
      socket.on('model:install', (state: InstallState) => {
        if (state.state !== 'running') ends.push(state);
      });
      expect((await raw(s.server, 'POST', '/api/models/fake-x2/install')).status).toBe(202);
      await expect.poll(() => ends.length).toBe(1);
      expect(ends[0]).toMatchObject({ state: 'error', error: { code: 'DISK_FULL' } });
      const listed = (await raw(s.server, 'GET', '/api/models/catalogue')).json() as CatalogueBody;
      expect(listed.models[0]?.install?.error?.code).toBe('DISK_FULL');
      // Not stuck: a retry runs the install again and succeeds.
      expect((await raw(s.server, 'POST', '/api/models/fake-x2/install')).status).toBe(202);
      await expect.poll(() => ends.length).toBe(2);
      expect(ends[1]).toMatchObject({ state: 'done', sizeBytes: 10 });
      socket.close();
      expect(attempts).toBe(2);
      expect((await raw(s.server, 'GET', '/health')).status).toBe(200);
    } finally {
      await s.cleanup();
    }
  });

  it('answers NOT_READY where the engine has no model manager', async () => {
    const s = await startTestServer();
    try {
      expect(errorCode(await raw(s.server, 'GET', '/api/models/catalogue'))).toBe('NOT_READY');
      expect(errorCode(await raw(s.server, 'POST', '/api/models/x/install'))).toBe('NOT_READY');
    } finally {
      await s.cleanup();
    }
  });
});
