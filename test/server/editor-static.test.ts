// The built editor (static, cross-origin isolated, no token) and the preset routes.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, raw, sleepGraph, startTestServer, type TestServer, tempDir, waitForStatus } from './helpers';

let t: TestServer;
beforeAll(async () => {
  const editorDir = await tempDir('coser-editor-dist-');
  await writeFile(join(editorDir, 'index.html'), '<!doctype html><title>CoSeR Studio</title>');
  await mkdir(join(editorDir, 'assets'));
  await writeFile(join(editorDir, 'assets', 'app.js'), 'console.log(1);');
  t = await startTestServer({ editorDir });
});
afterAll(async () => t.cleanup());

describe('editor files', () => {
  it('serves index.html and assets without a token, cross-origin isolated', async () => {
    const index = await raw(t.server, 'GET', '/', { token: null });
    expect(index.status).toBe(200);
    expect(index.body.toString()).toContain('CoSeR Studio');
    expect(index.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(index.headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    const asset = await raw(t.server, 'GET', '/assets/app.js', { token: null });
    expect(asset.status).toBe(200);
    expect((await raw(t.server, 'GET', '/assets/../../token', { token: null })).body.toString()).not.toContain(
      t.server.token,
    );
    expect((await raw(t.server, 'GET', '/nope.js', { token: null })).status).toBe(404);
  });
});

describe('editor not built', () => {
  it('answers / with an HTML page naming the build command, and serves the build once it exists', async () => {
    const editorDir = await tempDir('coser-editor-missing-');
    const bare = await startTestServer({ editorDir });
    try {
      expect(bare.server.editor).toMatchObject({ state: 'missing' });
      const page = await raw(bare.server, 'GET', '/', { token: null });
      expect(page.status).toBe(503);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.body.toString()).toContain('npm run build -w @coser/editor');
      // Built while the server runs: the next reload gets the editor, no restart.
      await writeFile(join(editorDir, 'index.html'), '<!doctype html><title>CoSeR Studio</title>');
      const built = await raw(bare.server, 'GET', '/', { token: null });
      expect(built.status).toBe(200);
      expect(built.body.toString()).toContain('<title>CoSeR Studio</title>');
    } finally {
      await bare.cleanup();
    }
  });
});

describe('presets', () => {
  it('lists graphs/*.json and serves one by name; refuses other names', async () => {
    const list = (await raw(t.server, 'GET', '/api/presets')).json() as { name: string; title: string }[];
    expect(list.map((p) => p.name)).toContain('resize-and-fix');
    const preset = (await raw(t.server, 'GET', '/api/presets/resize-and-fix')).json() as { format: string };
    expect(preset.format).toBe('coser-graph');
    for (const name of ['..%2fpackage', '%2e%2e', 'samples', '.hidden']) {
      const res = await raw(t.server, 'GET', `/api/presets/${name}`);
      expect(res.status, name).toBe(404);
    }
    expect((await raw(t.server, 'GET', '/api/presets', { token: null })).status).toBe(401);
  });
});

describe('hidden output files', () => {
  it('never serves temporaries of atomic writes', async () => {
    const res = await raw(t.server, 'POST', '/api/runs', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ graph: sleepGraph(1, 1) }),
    });
    const { runId } = res.json() as { runId: string };
    await waitForStatus(t.server, runId, ['done']);
    await writeFile(join(t.dataDir, 'runs', runId, '.out.png.1234.tmp'), 'half');
    const hidden = await raw(t.server, 'GET', `/api/runs/${runId}/outputs/.out.png.1234.tmp`);
    expect(hidden.status).toBe(404);
    expect(errorCode(hidden)).toBe('FILE_NOT_FOUND');
  });
});
