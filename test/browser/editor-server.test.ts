// The editor driving a real `coser serve` (createServer) in Chromium: token from the URL fragment, graph opened from a
// file, image uploaded over REST, run over socket.io, output fetched with the token, and a run resumed after reload.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GraphFile } from '@coser/runtime';
import { type CoserServer, createServer } from '@coser/server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunState } from '../../packages/editor/src/run/run-state';
import {
  buildEditor,
  launchChromium,
  MODELS_DIR,
  REPO_ROOT,
  runState,
  storeWithModel,
  waitForRunEnd,
} from './editor-harness';

const MODEL = 'esrgan-medium-x4';
const SAMPLE = join(REPO_ROOT, 'graphs/samples/astronaut-lr.png');

const graph = {
  format: 'coser-graph',
  version: 1,
  name: 'Server upscale',
  description: 'Load Image -> Upscale Image -> Save Image, run on the server',
  nodes: [
    { id: 'load', type: 'io.loadImage', typeVersion: 1, params: { path: '' }, position: { x: 0, y: 0 } },
    { id: 'up', type: 'upscale.upscaleImage', typeVersion: 1, params: { model: MODEL }, position: { x: 320, y: 0 } },
    { id: 'save', type: 'io.saveImage', typeVersion: 1, params: {}, position: { x: 660, y: 0 } },
  ],
  edges: [
    { from: { node: 'load', port: 'image' }, to: { node: 'up', port: 'image' } },
    { from: { node: 'up', port: 'image' }, to: { node: 'save', port: 'image' } },
  ],
  inputs: {},
};

let work: string;
let dist: string;
let server: CoserServer;
let browser: Browser;
let page: Page;
/** Output file names of the first run, checked again after the reload. */
let firstFiles: string[] = [];
/** The run that is interrupted by a server restart. */
let slowGraph: GraphFile;

beforeAll(async () => {
  await storeWithModel(MODEL);
  work = await mkdtemp(join(tmpdir(), 'coser-editor-server-'));
  dist = await buildEditor();
  server = await createServer({ dataDir: join(work, 'data'), modelsDir: MODELS_DIR, editorDir: dist, port: 0 });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dist) await rm(dist, { recursive: true, force: true });
  if (work) await rm(work, { recursive: true, force: true });
});

describe('editor in Chromium, running on coser serve', () => {
  it('takes the token from the URL, opens a graph file, uploads, runs over socket.io and shows the output', async () => {
    await page.goto(`${server.url}/#token=${server.token}`);
    await page.waitForSelector('.sidebar .palette-item');
    // The token left the address bar and the editor switched to the server.
    expect(new URL(page.url()).hash).toBe('');
    await expect.poll(() => page.textContent('[data-testid=run-target]')).toMatch(/Server · connected/);
    expect(page.url()).not.toContain(server.token);

    const file = join(work, 'server-upscale.json');
    await writeFile(file, JSON.stringify(graph));
    await page.setInputFiles('[data-testid=open-file]', file);
    await expect.poll(() => page.locator('.react-flow__node').count()).toBe(3);
    await expect.poll(() => page.locator('.graph-name').inputValue()).toBe('Server upscale');

    // The model picker lists the server's installed models (once the list has arrived: on a loaded machine the
    // graph can open first).
    await expect
      .poll(() => page.locator('.react-flow__node[data-id="up"] .model-picker option').allTextContents())
      .toContain(MODEL);

    await page.setInputFiles('.react-flow__node[data-id="load"] input[type=file]', SAMPLE);
    // The server keeps the upload in a folder of its own (UUID/astronaut-lr.png): the param holds that name.
    await expect
      .poll(() =>
        page.evaluate(() => window.coserEditor!.getGraph().nodes.find((n) => n.id === 'load')?.params['path']),
      )
      .toMatch(/^[0-9a-f-]{36}\/astronaut-lr\.png$/);

    await page.click('[data-testid=run]');
    const state = await waitForRunEnd(page);
    expect(state.error).toBeUndefined();
    expect(state.status).toBe('done');
    expect(state.target).toBe('server');
    expect(state.nodes['up']?.status).toBe('done');
    await expect.poll(async () => (await runState(page)).files.length).toBe(1);
    firstFiles = (await runState(page)).files.map((f) => f.name);
    // Save Image's `{name}` is the dropped file's name, not the upload's id.
    expect(firstFiles).toEqual(['astronaut-lr.png']);
    await expect
      .poll(() => page.locator('[data-testid=result-file] [data-testid=result-size]').textContent())
      .toMatch(/^256×256/);
    await mkdir(join(REPO_ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(REPO_ROOT, 'test-results/editor-server-run.png') });
  }, 180_000);

  it('resumes watching a run after a reload (replays its stored events and fetches its outputs)', async () => {
    const { runId } = await runState(page);
    expect(runId).toBeDefined();
    // As if the page had been closed mid-run: the editor keeps the id of an unfinished server run.
    await page.evaluate((id) => localStorage.setItem('coser.editor.activeRun', id!), runId);
    await page.reload();
    await page.waitForSelector('.sidebar .palette-item');
    const state = await waitForRunEnd(page);
    expect(state.runId).toBe(runId);
    expect(state.status).toBe('done');
    expect(state.nodes['up']?.status).toBe('done');
    await expect.poll(async () => (await runState(page)).files.map((f) => f.name)).toEqual(firstFiles);
    // The graph itself survived the reload too (autosave), with the uploaded image it names.
    expect(await page.locator('.graph-name').inputValue()).toBe('Server upscale');
    const restored = (await page.evaluate(() => window.coserEditor!.getGraph())) as GraphFile;
    expect(restored.nodes.find((n) => n.id === 'load')?.params['path']).toMatch(/\.png$/);
  }, 180_000);

  it('reports a graph the server refuses without losing the editor state', async () => {
    await page.evaluate(() => {
      const g = window.coserEditor!.getGraph();
      window.coserEditor!.openGraph({ ...g, edges: g.edges.slice(0, 1) });
    });
    await page.click('[data-testid=run]');
    const state = await waitForRunEnd(page);
    expect(state.status).toBe('error');
    expect(state.error?.code).toBe('INPUT_UNCONNECTED');
    await expect.poll(() => page.textContent('[data-testid=statusbar]')).toMatch(/Run refused/);
    expect(await page.locator('.react-flow__node').count()).toBe(3);
  }, 180_000);

  it('reconnects after the server restarts, reports the interrupted run, and runs again', async () => {
    const current = (await page.evaluate(() => window.coserEditor!.getGraph())) as GraphFile;
    slowGraph = {
      ...current,
      nodes: [
        ...current.nodes.map((n) => (n.id === 'up' ? { ...n, params: { ...n.params, selfEnsemble: true } } : n)),
        {
          id: 'bigger',
          type: 'image.resize',
          typeVersion: 1,
          params: { mode: 'scale', scale: 4 },
          position: { x: 0, y: 300 },
        },
      ],
      edges: [
        { from: { node: 'load', port: 'image' }, to: { node: 'bigger', port: 'image' } },
        { from: { node: 'bigger', port: 'image' }, to: { node: 'up', port: 'image' } },
        { from: { node: 'up', port: 'image' }, to: { node: 'save', port: 'image' } },
      ],
    };
    await page.evaluate((g) => window.coserEditor!.openGraph(g as never), slowGraph);
    await page.click('[data-testid=run]');
    await page.waitForFunction(
      () => (window.coserEditor!.runState() as RunState).nodes['up']?.status === 'running',
      null,
      { timeout: 60_000 },
    );
    const { port, token } = server;
    await server.close();
    await expect.poll(() => page.textContent('[data-testid=run-target]'), { timeout: 20_000 }).toMatch(/reconnecting/);
    server = await createServer({ dataDir: join(work, 'data'), modelsDir: MODELS_DIR, editorDir: dist, port });
    expect(server.token).toBe(token);
    await expect.poll(() => page.textContent('[data-testid=run-target]'), { timeout: 30_000 }).toMatch(/connected/);
    const state = await waitForRunEnd(page);
    expect(state.status).toBe('error');
    expect(state.error?.code).toBe('CANCELLED');
    expect(state.error?.message).toMatch(/server stopped/);

    // The same page keeps working against the restarted server.
    await page.evaluate((g) => window.coserEditor!.openGraph(g as never), {
      ...slowGraph,
      nodes: slowGraph.nodes.map((n) => (n.id === 'up' ? { ...n, params: { ...n.params, selfEnsemble: false } } : n)),
    });
    await page.click('[data-testid=run]');
    await page.waitForFunction(
      () =>
        (window.coserEditor!.runState() as RunState).status === 'running' ||
        (window.coserEditor!.runState() as RunState).status === 'done',
    );
    const again = await waitForRunEnd(page);
    expect(again.status).toBe('done');
  }, 180_000);
  it('runs on the server an image dropped while running on this device (uploaded at submit, canvas unchanged)', async () => {
    const switchTo = async (mode: 0 | 1) => {
      await page.click('[data-testid=run-target]');
      await page.locator('.dialog input[name=mode]').nth(mode).check();
      await page.click('.dialog button[type=submit]');
    };
    await switchTo(0);
    await expect.poll(() => page.textContent('[data-testid=run-target]')).toMatch(/This device/);
    await page.evaluate((g) => window.coserEditor!.openGraph(g as never), graph);
    await page.setInputFiles('.react-flow__node[data-id="load"] input[type=file]', SAMPLE);
    const localName = () =>
      page.evaluate(() => window.coserEditor!.getGraph().nodes.find((n) => n.id === 'load')?.params['path']);
    await expect.poll(localName).toBe('uploads/astronaut-lr.png');

    await switchTo(1);
    await expect.poll(() => page.textContent('[data-testid=run-target]')).toMatch(/Server · connected/);
    await page.click('[data-testid=run]');
    const state = await waitForRunEnd(page);
    expect(state.error).toBeUndefined();
    expect(state.status).toBe('done');
    expect(state.target).toBe('server');
    await expect.poll(async () => (await runState(page)).files.length).toBe(1);
    expect(await localName()).toBe('uploads/astronaut-lr.png');
  }, 180_000);
});
