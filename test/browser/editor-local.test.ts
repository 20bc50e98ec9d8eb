// The editor end to end in real Chromium: build it, serve it, wire a graph from the palette, run it on this device
// (onnxruntime-web, WASM) and compare with onnxruntime-node in this process.
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEmbeddedGraph } from '@coser/nodes';
import type { ModelStore } from '@coser/nodes/node';
import { executeGraph, type GraphFile, type ImageBuffer, loadGraph } from '@coser/runtime';
import { createLocalEnvironment } from '@coser/server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SerializedImage } from '../../packages/editor/src/components/automation';
import type { RunState } from '../../packages/editor/src/run/run-state';
import { headerOnlyPng } from '../helpers/images';
import {
  buildEditor,
  launchChromium,
  MODELS_DIR,
  REPO_ROOT,
  type StaticServer,
  serveEditor,
  storeWithModel,
  waitForRunEnd,
} from './editor-harness';

const MODEL = 'esrgan-medium-x4';
const SAMPLE = join(REPO_ROOT, 'graphs/samples/astronaut-lr.png');
const RESULTS = join(REPO_ROOT, 'test-results');

let store: ModelStore;
let dist: string;
let server: StaticServer;
let browser: Browser;
let page: Page;
/** The PNG the first run wrote (it embeds its graph). */
let outputPng: number[] = [];

beforeAll(async () => {
  store = await storeWithModel(MODEL);
  dist = await buildEditor();
  server = await serveEditor(dist, store);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
  // WASM explicitly: headless Chromium here has no WebGPU adapter anyway, and this keeps the test deterministic.
  await page.addInitScript(() => {
    if (!localStorage.getItem('coser.editor.settings')) {
      localStorage.setItem('coser.editor.settings', JSON.stringify({ mode: 'local', backend: 'wasm' }));
    }
  });
  await page.goto(server.url);
  await page.waitForSelector('.sidebar .palette-item');
  // A first visit opens the main job (editor-first-run.test.ts); this test builds its graph from an empty canvas.
  await page.click('button[title="New graph"]');
  await page.waitForFunction(() => document.querySelectorAll('.react-flow__node').length === 0);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dist) await rm(dist, { recursive: true, force: true });
});

const nodeSelector = (id: string) => `.react-flow__node[data-id="${id}"]`;

async function handleCenter(node: string, port: string, type: 'source' | 'target') {
  const box = await page
    .locator(`${nodeSelector(node)} .react-flow__handle.${type}[data-handleid="${port}"]`)
    .boundingBox();
  if (!box) throw new Error(`handle ${node}.${port} (${type}) is not visible`);
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

async function drag(from: { x: number; y: number }, to: { x: number; y: number }) {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(to.x, to.y, { steps: 12 });
  await page.mouse.up();
}

describe('editor in Chromium, running on this device', () => {
  it('builds a graph from the palette, refuses a wrong wire, runs it with WASM and shows a 4x result', async () => {
    // Load Image by clicking, Upscale Image through the search box.
    await page.locator('.sidebar .palette-item', { hasText: 'Load Image' }).first().click();
    await page.fill('.sidebar .palette-search', 'upscale image');
    await page.press('.sidebar .palette-search', 'Enter');
    await page.fill('.sidebar .palette-search', '');
    await page.keyboard.press('Escape');
    await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('f');
    await page.waitForTimeout(400);
    await expect.poll(() => page.locator('.react-flow__node').count()).toBe(2);

    // A wire from an image output into the model input is refused, with the reason in the status bar.
    await drag(
      await handleCenter('loadImage', 'image', 'source'),
      await handleCenter('upscaleImage', 'model', 'target'),
    );
    await expect
      .poll(() => page.locator('[data-testid=statusbar]').textContent())
      .toMatch(/Image output cannot feed a Model input/);
    expect(await page.locator('.react-flow__edge').count()).toBe(0);

    await drag(
      await handleCenter('loadImage', 'image', 'source'),
      await handleCenter('upscaleImage', 'image', 'target'),
    );
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(1);

    // Dropping a wire on empty canvas opens the palette filtered to nodes that take an image: pick Save Image.
    const out = await handleCenter('upscaleImage', 'image', 'source');
    await drag(out, { x: out.x + 180, y: out.y + 60 });
    const popup = page.locator('.palette.popup');
    await popup.waitFor();
    expect(await popup.textContent()).toMatch(/input of kind Image/);
    expect(await popup.locator('.palette-item', { hasText: 'Load Image' }).count()).toBe(0);
    await popup.locator('.palette-search').fill('save');
    await popup.locator('.palette-item', { hasText: 'Save Image' }).first().click();
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(2);

    await page.setInputFiles(`${nodeSelector('loadImage')} input[type=file]`, SAMPLE);
    await page.selectOption(`${nodeSelector('upscaleImage')} .model-picker select`, MODEL);
    await expect
      .poll(() => page.locator(`${nodeSelector('loadImage')} .image-name`).textContent())
      .toBe('uploads/astronaut-lr.png');
    // Output sizes are known before running: the upload's header, times the model's scale.
    await expect
      .poll(() => page.locator(`${nodeSelector('upscaleImage')} .port-row.output .port-info`).textContent())
      .toMatch(/256×256/);
    // Validation settles: no diagnostics left on any node.
    await expect.poll(() => page.locator('.node-diagnostics').count(), { timeout: 5000 }).toBe(0);

    await page.click('[data-testid=run]');
    const state = await waitForRunEnd(page);
    expect(state.error).toBeUndefined();
    expect(state.status).toBe('done');
    expect(state.nodes['upscaleImage']?.status).toBe('done');
    expect(await page.textContent('[data-testid=run-target]')).toMatch(/onnxruntime-web\/wasm/);

    const file = page.locator('[data-testid=result-file]').first();
    await expect.poll(() => file.locator('[data-testid=result-size]').textContent()).toMatch(/^256×256/);
    await expect.poll(() => page.locator('[data-testid=compare-slider]').count()).toBe(1);

    // The output PNG is 4x the 64 px input and carries the graph that made it.
    const png = await page.evaluate(async () => {
      const { files } = window.coserEditor!.runState() as { files: { url: string }[] };
      const blob = await (await fetch(files[0]!.url)).blob();
      const bitmap = await createImageBitmap(blob);
      return { width: bitmap.width, height: bitmap.height, bytes: [...new Uint8Array(await blob.arrayBuffer())] };
    });
    expect([png.width, png.height]).toEqual([256, 256]);
    outputPng = png.bytes;
    const embedded = loadGraph(readEmbeddedGraph(Uint8Array.from(png.bytes)));
    expect(embedded.graph?.nodes.map((n) => n.type).sort()).toEqual([
      'io.loadImage',
      'io.saveImage',
      'upscale.upscaleImage',
    ]);

    await page.keyboard.press('f');
    await page.waitForTimeout(300);
    await mkdir(RESULTS, { recursive: true });
    await page.screenshot({ path: join(RESULTS, 'editor-local-run.png') });
  }, 180_000);

  it('keeps the graph and its uploaded image across a reload, and runs again', async () => {
    await page.waitForTimeout(500);
    await page.reload();
    await page.waitForSelector('.sidebar .palette-item');
    await expect.poll(() => page.locator('.react-flow__node').count()).toBe(3);
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(2);
    // The upload comes back from IndexedDB into the worker right after start-up.
    await page.waitForTimeout(500);
    await page.click('[data-testid=run]');
    const state = await waitForRunEnd(page);
    expect(state.error).toBeUndefined();
    expect(state.status).toBe('done');
  }, 180_000);

  it('gives the same upscaled image as onnxruntime-node (max difference under 1e-3)', async () => {
    const graph = (await page.evaluate(() => window.coserEditor!.getGraph())) as GraphFile;
    const web = (await page.evaluate(([g]) => window.coserEditor!.runForValues(g as never, ['upscaleImage']), [
      graph,
    ] as const)) as Record<string, Record<string, SerializedImage>>;
    const webImage = web['upscaleImage']?.['image'];
    expect(webImage).toBeDefined();

    const outputDir = await mkdtemp(join(tmpdir(), 'coser-editor-parity-'));
    try {
      const env = createLocalEnvironment({
        modelsDir: MODELS_DIR,
        outputDir,
        inputRoots: [join(REPO_ROOT, 'graphs/samples')],
      });
      const nodeGraph: GraphFile = {
        ...graph,
        nodes: graph.nodes.map((n) =>
          n.id === 'loadImage' ? { ...n, params: { ...n.params, path: 'astronaut-lr.png' } } : n,
        ),
      };
      const result = await executeGraph(nodeGraph, env);
      expect(result.error).toBeUndefined();
      const nodeImage = result.values.get('upscaleImage')?.['image'] as ImageBuffer;
      expect([webImage!.width, webImage!.height, webImage!.channels]).toEqual([
        nodeImage.width,
        nodeImage.height,
        nodeImage.channels,
      ]);
      let maxDiff = 0;
      for (let i = 0; i < nodeImage.data.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(nodeImage.data[i]! - webImage!.data[i]!));
      }
      expect(maxDiff).toBeLessThan(1e-3);
    } finally {
      await rm(outputDir, { recursive: true, force: true });
    }
  }, 180_000);

  it('saves the graph as the JSON file the CLI runs', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('button[title^="Download the graph"]'),
    ]);
    expect(download.suggestedFilename()).toBe('untitled.json');
    const text = await readFile((await download.path())!, 'utf8');
    const { graph, diagnostics } = loadGraph(text);
    expect(diagnostics).toEqual([]);
    const current = (await page.evaluate(() => window.coserEditor!.getGraph())) as GraphFile;
    // The same graph, except that the dropped image is named by its own file name (not this tab's upload id), and
    // the Load Image added from the palette is the graph's `image` input: `coser run untitled.json --input image=…`.
    expect(current.nodes.find((n) => n.id === 'loadImage')?.params['path']).toBe('uploads/astronaut-lr.png');
    expect(graph?.nodes).toEqual(
      current.nodes.map((n) =>
        n.id === 'loadImage' ? { ...n, params: { ...n.params, path: 'astronaut-lr.png' } } : n,
      ),
    );
    expect(graph?.edges).toEqual(current.edges);
    expect(graph?.inputs).toEqual({ image: { node: 'loadImage', param: 'path' } });
    expect(graph?.editor?.viewport?.zoom).toBeGreaterThan(0);
  }, 180_000);

  it('copies, pastes, undoes, redoes and deletes with the keyboard', async () => {
    const count = () => page.locator('.react-flow__node').count();
    await page.click(`${nodeSelector('upscaleImage')} .node-header`);
    await page.keyboard.press('Control+c');
    await page.keyboard.press('Control+v');
    await expect.poll(count).toBe(4);
    expect(await page.locator(nodeSelector('upscaleImage2')).count()).toBe(1);
    await page.waitForTimeout(500);
    await page.keyboard.press('Control+z');
    await expect.poll(count).toBe(3);
    await page.keyboard.press('Control+y');
    await expect.poll(count).toBe(4);
    await page.click(`${nodeSelector('upscaleImage2')} .node-header`);
    await page.keyboard.press('Delete');
    await expect.poll(count).toBe(3);
    await page.waitForTimeout(500);
    // The original graph is intact: Load -> Upscale -> Save, both wires.
    const graph = (await page.evaluate(() => window.coserEditor!.getGraph())) as GraphFile;
    expect(graph.nodes.map((n) => n.id).sort()).toEqual(['loadImage', 'saveImage', 'upscaleImage']);
    expect(graph.edges).toHaveLength(2);
  }, 180_000);

  it('opens the graph embedded in a dropped PNG, and explains a dropped file it cannot open', async () => {
    const drop = (bytes: number[], name: string, type: string) =>
      page.evaluate(
        ([b, n, t]) => {
          const transfer = new DataTransfer();
          transfer.items.add(new File([Uint8Array.from(b as number[])], n as string, { type: t as string }));
          const canvas = document.querySelector('.canvas')!;
          const box = canvas.getBoundingClientRect();
          canvas.dispatchEvent(
            new DragEvent('drop', {
              dataTransfer: transfer,
              bubbles: true,
              cancelable: true,
              clientX: box.x + 50,
              clientY: box.y + 50,
            }),
          );
        },
        [bytes, name, type] as const,
      );
    await page.click('button[title="New graph"]');
    await expect.poll(() => page.locator('.react-flow__node').count()).toBe(0);
    await drop(outputPng, 'astronaut-lr.png', 'image/png');
    await expect.poll(() => page.locator('.react-flow__node').count()).toBe(3);
    await expect.poll(() => page.textContent('[data-testid=statusbar]')).toMatch(/from the PNG it produced/);
    await drop([...new TextEncoder().encode('just some notes')], 'notes.txt', 'text/plain');
    await expect.poll(() => page.textContent('[data-testid=statusbar]')).toMatch(/notes\.txt is neither a graph/);
    expect(await page.locator('.react-flow__node').count()).toBe(3);
  }, 180_000);

  it('cancels a running graph', async () => {
    const graph = (await page.evaluate(() => window.coserEditor!.getGraph())) as GraphFile;
    // A bigger, 8x self-ensembled job, so that the run is still going when Cancel is pressed.
    const slow: GraphFile = {
      ...graph,
      nodes: [
        ...graph.nodes.map((n) =>
          n.type === 'upscale.upscaleImage' ? { ...n, params: { ...n.params, selfEnsemble: true } } : n,
        ),
        {
          id: 'bigger',
          type: 'image.resize',
          typeVersion: 1,
          params: { mode: 'scale', scale: 4 },
          position: { x: 0, y: 300 },
        },
      ],
      edges: graph.edges.map((e) =>
        e.to.node === 'upscaleImage' ? { from: { node: 'bigger', port: 'image' }, to: e.to } : e,
      ),
    };
    slow.edges.push({ from: { node: 'loadImage', port: 'image' }, to: { node: 'bigger', port: 'image' } });
    await page.evaluate((g) => window.coserEditor!.openGraph(g as never), slow);
    await page.click('[data-testid=run]');
    await page.waitForFunction(
      () => (window.coserEditor!.runState() as RunState).nodes['upscaleImage']?.status === 'running',
      null,
      { timeout: 60_000 },
    );
    await page.click('[data-testid=cancel]');
    const state = await waitForRunEnd(page);
    expect(state.status).toBe('cancelled');
    expect(state.nodes['upscaleImage']?.status).toBe('cancelled');
    expect(await page.locator('[data-testid=run]').count()).toBe(1);
  }, 180_000);

  it('flags and refuses an image whose header claims 20000x20000 before decoding it', async () => {
    // A few dozen bytes claiming 20000 x 20000: 400 megapixels.
    const bomb = headerOnlyPng(20_000, 20_000);
    await page.setInputFiles(`${nodeSelector('loadImage')} input[type=file]`, {
      name: 'bomb.png',
      mimeType: 'image/png',
      buffer: bomb,
    });
    await expect
      .poll(() => page.locator(`${nodeSelector('loadImage')} .image-name`).textContent())
      .toBe('uploads/bomb.png');
    // Flagged on the node from the upload's header, before anything runs.
    await expect
      .poll(() => page.locator(`${nodeSelector('loadImage')} .node-diagnostics`).textContent())
      .toMatch(/20000x20000 \(400000000 pixels\), over the cap/);
    await page.click('[data-testid=run]');
    const state = await waitForRunEnd(page);
    expect(state.status).toBe('error');
    expect(state.error?.code).toBe('IMAGE_TOO_LARGE');
    // Refused before it started: the flagged graph never reaches the decoder.
    expect(state.error?.message).toMatch(/20000x20000/);
    expect(state.runId).toBeUndefined();
    expect(state.nodes).toEqual({});
  }, 180_000);
});
