// A new user's first minutes, in real Chromium against a real `coser serve` (createServer on 127.0.0.1:0 serving the
// built editor): the first visit opens the main job with its bundled sample photo and runs it as loaded on this
// device (onnxruntime-web, WASM) and on the server; a graph made and saved in the editor runs with `coser run --input`.
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GraphFile } from '@coser/runtime';
import type { CoserServer } from '@coser/server';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIRST_VISIT_HINT } from '../../packages/editor/src/components/editor-view';
import { pngSize } from '../helpers/images';
import { runCli } from '../helpers/run-cli';
import {
  launchChromium,
  REPO_ROOT,
  runState,
  type ServedEditor,
  serveBuiltEditor,
  storeWithModel,
  switchTarget,
  waitForRunEnd,
} from './editor-harness';

const MODEL = 'esrgan-medium-x4';
const SAMPLE = join(REPO_ROOT, 'graphs/samples/astronaut-lr.png');
const RESULTS = join(REPO_ROOT, 'test-results');

let served: ServedEditor;
let server: CoserServer;
let work: string;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  await storeWithModel(MODEL);
  served = await serveBuiltEditor();
  ({ server, work } = served);
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await served?.close();
});

/** A browser profile that never saw the editor (no autosave, no settings), opened at the URL `coser serve` prints. */
async function firstVisit(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 850 }, acceptDownloads: true });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${server.url}/#token=${server.token}`);
  await page.waitForSelector('.react-flow__node');
  return page;
}

const graphOf = (page: Page) => page.evaluate(() => window.coserEditor!.getGraph()) as Promise<GraphFile>;

/** Runs the open graph and checks it made the sample's x4 PNG. */
async function runMainJob(page: Page, target: 'local' | 'server'): Promise<void> {
  await page.click('[data-testid=run]');
  const state = await waitForRunEnd(page);
  expect(state.error).toBeUndefined();
  expect(state.status).toBe('done');
  expect(state.target).toBe(target);
  await expect.poll(async () => (await runState(page)).files.map((f) => f.name)).toEqual(['astronaut-lr-x4.png']);
  await expect
    .poll(() => page.locator('[data-testid=result-file] [data-testid=result-size]').textContent())
    .toMatch(/^256×256/);
}

describe('the first visit', () => {
  it('opens the main job with the sample photo, fitted, says what to do, and runs as loaded on this device', async () => {
    const page = await firstVisit();
    const graph = await graphOf(page);
    expect(graph.name).toBe('Upscale x4 (ESRGAN medium)');
    expect(graph.nodes.map((n) => n.id)).toEqual(['load', 'upscale', 'save']);
    expect(graph.nodes[0]!.params['path']).toBe('samples/astronaut-lr.png');
    expect(await page.locator('.react-flow__node[data-id="load"] .image-name').textContent()).toBe(
      'samples/astronaut-lr.png',
    );
    expect(await page.textContent('[data-testid=first-visit-hint]')).toContain(FIRST_VISIT_HINT);
    // The sample's size is known before anything runs (the worker holds the bundled photo): 64 px in, 256 out.
    await expect
      .poll(() => page.locator('.react-flow__node[data-id="upscale"] .port-row.output .port-info').textContent())
      .toMatch(/256×256/);
    await expect.poll(() => page.locator('.node-diagnostics').count(), { timeout: 5000 }).toBe(0);

    // Fitted: every node lies wholly inside the canvas.
    const canvas = (await page.locator('main.canvas').boundingBox())!;
    for (const id of ['load', 'upscale', 'save']) {
      const box = (await page.locator(`.react-flow__node[data-id="${id}"]`).boundingBox())!;
      expect(box.x, id).toBeGreaterThanOrEqual(canvas.x);
      expect(box.y, id).toBeGreaterThanOrEqual(canvas.y);
      expect(box.x + box.width, id).toBeLessThanOrEqual(canvas.x + canvas.width);
      expect(box.y + box.height, id).toBeLessThanOrEqual(canvas.y + canvas.height);
    }
    // The palette starts with what most graphs use.
    const palette = await page.locator('.sidebar .palette-item .palette-title').allTextContents();
    expect(palette.slice(0, 3)).toEqual(['Load Image', 'Save Image', 'Upscale Image']);
    expect(palette.at(-1)).not.toBe('Load Image');
    await mkdir(RESULTS, { recursive: true });
    await page.screenshot({ path: join(RESULTS, 'editor-first-visit.png') });

    // The printed URL opens in server mode; "This device" (settings left on auto) runs it in the browser.
    await switchTarget(page, 'local');
    await runMainJob(page, 'local');
    expect(await page.textContent('[data-testid=run-target]')).toMatch(/onnxruntime-web\/wasm/);
    expect(await page.locator('[data-testid=first-visit-hint]').count()).toBe(0);
    // The before/after slider has the sample as its "before".
    expect(await page.locator('[data-testid=compare-slider]').count()).toBe(1);

    // A reload is no longer a first visit: the graph comes back from the autosave, without the hint.
    await page.reload();
    await page.waitForSelector('.react-flow__node');
    expect(await page.locator('[data-testid=first-visit-hint]').count()).toBe(0);
    expect((await graphOf(page)).nodes[0]!.params['path']).toBe('samples/astronaut-lr.png');
  }, 240_000);

  it('runs as loaded on the server', async () => {
    const page = await firstVisit();
    await expect.poll(() => page.textContent('[data-testid=run-target]')).toMatch(/Server · connected/);
    await runMainJob(page, 'server');
  }, 240_000);
});

describe('a graph made and saved in the editor', () => {
  const node = (id: string) => `.react-flow__node[data-id="${id}"]`;

  async function drag(page: Page, from: { x: number; y: number }, to: { x: number; y: number }) {
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(to.x, to.y, { steps: 12 });
    await page.mouse.up();
  }

  /** Drops a wire from `id`'s image output on empty canvas and picks `title` in the filtered palette. */
  async function extend(page: Page, id: string, title: string) {
    await page.click('button[title="Fit view (F)"]');
    await page.waitForTimeout(300);
    const box = (await page.locator(`${node(id)} .react-flow__handle.source[data-handleid="image"]`).boundingBox())!;
    const canvas = (await page.locator('main.canvas').boundingBox())!;
    const from = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    await drag(page, from, { x: Math.min(from.x + 160, canvas.x + canvas.width - 15), y: from.y + 40 });
    const popup = page.locator('.palette.popup');
    await popup.locator('.palette-search').fill(title.toLowerCase());
    await popup.locator('.palette-item', { hasText: title }).first().click();
  }

  async function save(page: Page): Promise<GraphFile> {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button:text-is("Save")')]);
    return JSON.parse(await readFile((await download.path())!, 'utf8')) as GraphFile;
  }

  it('keeps Load Image as the `image` input under the dropped file’s name, and runs with coser run --input', async () => {
    const page = await firstVisit();
    await switchTarget(page, 'local');
    await page.click('button[title="New graph"]');
    await expect.poll(() => page.locator('.react-flow__node').count()).toBe(0);

    // Each Load Image the editor adds is a graph input: `image`, then `image2`; deleting one drops its input.
    await page.locator('.sidebar .palette-item', { hasText: 'Load Image' }).first().click();
    await page.locator('.sidebar .palette-item', { hasText: 'Load Image' }).first().click();
    await expect
      .poll(async () => (await graphOf(page)).inputs)
      .toEqual({ image: { node: 'loadImage', param: 'path' }, image2: { node: 'loadImage2', param: 'path' } });
    await page.click(`${node('loadImage2')} .node-header`);
    await page.keyboard.press('Delete');
    await expect
      .poll(async () => (await graphOf(page)).inputs)
      .toEqual({ image: { node: 'loadImage', param: 'path' } });

    await extend(page, 'loadImage', 'Upscale Image');
    await extend(page, 'upscaleImage', 'Save Image');
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(2);
    await page.selectOption(`${node('upscaleImage')} .model-picker select`, MODEL);
    const photo = join(work, 'photo.png');
    await copyFile(SAMPLE, photo);
    await page.setInputFiles(`${node('loadImage')} input[type=file]`, photo);
    await expect.poll(() => page.locator(`${node('loadImage')} .image-name`).textContent()).toBe('uploads/photo.png');

    const saved = await save(page);
    expect(saved.inputs).toEqual({ image: { node: 'loadImage', param: 'path' } });
    expect(saved.nodes.find((n) => n.id === 'loadImage')?.params['path']).toBe('photo.png');
    // The canvas keeps its own name for the upload, so it still runs here.
    expect((await graphOf(page)).nodes.find((n) => n.id === 'loadImage')?.params['path']).toBe('uploads/photo.png');

    const folder = join(work, 'saved-local');
    await mkdir(folder);
    await writeFile(join(folder, 'saved.json'), JSON.stringify(saved, null, 2));
    const out = join(folder, 'out');
    const ran = await runCli(['run', join(folder, 'saved.json'), '--input', `image=${SAMPLE}`, '--output', out], {
      timeoutMs: 120_000,
    });
    expect(ran.code, ran.stderr).toBe(0);
    const files = await readdir(out);
    expect(files).toHaveLength(1);
    expect(pngSize(await readFile(join(out, files[0]!)))).toEqual({ width: 256, height: 256 });
    // Without --input it reads photo.png beside the graph: the name it was saved with.
    await copyFile(SAMPLE, join(folder, 'photo.png'));
    const plain = await runCli(['run', 'saved.json', '--output', 'plain'], { cwd: folder, timeoutMs: 120_000 });
    expect(plain.code, plain.stderr).toBe(0);
    expect(await readdir(join(folder, 'plain'))).toEqual(['photo.png']);

    // On the server the upload is UUID/photo.png; the saved file still says photo.png.
    await switchTarget(page, 'server');
    await expect.poll(() => page.textContent('[data-testid=run-target]')).toMatch(/Server · connected/);
    // (A file input fires no change for the file it already holds: a copy from elsewhere, under the same name.)
    await mkdir(join(work, 'again'));
    await copyFile(SAMPLE, join(work, 'again', 'photo.png'));
    await page.setInputFiles(`${node('loadImage')} input[type=file]`, join(work, 'again', 'photo.png'));
    await expect
      .poll(() => page.locator(`${node('loadImage')} .image-name`).textContent())
      .toMatch(/^[0-9a-f-]{36}\/photo\.png$/);
    const fromServer = await save(page);
    expect(fromServer.nodes.find((n) => n.id === 'loadImage')?.params['path']).toBe('photo.png');
    expect(fromServer.inputs).toEqual(saved.inputs);
  }, 240_000);
});
