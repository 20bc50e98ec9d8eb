// The editor's first ten minutes in Chromium against a real `coser serve` (createServer on 127.0.0.1:0) whose models
// folder starts empty: the not-authorised message, the model manager and the install prompt on a node, state cleared
// on New/Open, answers for every dropped file, out-of-bounds values, Resize's mode fields, a model file picked for a
// named model (checked by sha256, provenance of what ran), and a CoSeR run on a contract set opened from a folder.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PROVENANCE_KEYWORD, readPngTextChunks } from '@coser/nodes';
import { writeContractModelSet } from '@coser/nodes/node';
import type { GraphFile } from '@coser/runtime';
import { type CoserServer, createServer } from '@coser/server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOT_AUTHORISED } from '../../packages/editor/src/run/server-models';
import { headerOnlyPng } from '../helpers/images';
import { makeTempDir } from '../helpers/temp-dir';
import { buildEditor, launchChromium, REPO_ROOT, runState, waitForRunEnd } from './editor-harness';

const SAMPLE = join(REPO_ROOT, 'graphs/samples/astronaut-lr.png');
const node = (id: string) => `.react-flow__node[data-id="${id}"]`;

function upscaleGraph(model: string, extra: Partial<GraphFile> = {}): GraphFile {
  return {
    format: 'coser-graph',
    version: 1,
    name: `Upscale with ${model}`,
    description: '',
    nodes: [
      { id: 'load', type: 'io.loadImage', typeVersion: 1, params: { path: '' }, position: { x: 0, y: 0 } },
      { id: 'up', type: 'upscale.upscaleImage', typeVersion: 1, params: { model }, position: { x: 320, y: 0 } },
      { id: 'save', type: 'io.saveImage', typeVersion: 1, params: {}, position: { x: 660, y: 0 } },
    ],
    edges: [
      { from: { node: 'load', port: 'image' }, to: { node: 'up', port: 'image' } },
      { from: { node: 'up', port: 'image' }, to: { node: 'save', port: 'image' } },
    ],
    inputs: {},
    ...extra,
  };
}

let work: string;
let remove: () => Promise<void>;
let modelsDir: string;
let contractDir: string;
let dist: string;
let server: CoserServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  ({ dir: work, remove } = await makeTempDir('coser-editor-ux-'));
  modelsDir = join(work, 'models');
  contractDir = join(work, 'coser-contract');
  await writeContractModelSet(contractDir, { channels: 4, tokens: 8 });
  dist = await buildEditor();
  server = await createServer({ dataDir: join(work, 'data'), modelsDir, editorDir: dist, port: 0, log: () => {} });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dist) await rm(dist, { recursive: true, force: true });
  await remove?.();
});

/** Opens the editor with these settings (the run target, token, WASM for local runs). */
async function openEditor(settings: { mode: 'local' | 'server'; token: string }) {
  await page.goto(server.url);
  await page.evaluate((s) => {
    localStorage.clear();
    localStorage.setItem('coser.editor.settings', JSON.stringify({ ...s, backend: 'wasm', serverUrl: '' }));
  }, settings);
  await page.reload();
  await page.waitForSelector('.sidebar .palette-item');
}

async function openGraph(graph: GraphFile) {
  await page.evaluate((g) => window.coserEditor!.openGraph(g), graph);
  await expect.poll(() => page.locator('.graph-name').inputValue()).toBe(graph.name);
}

/** Drops a file on an element, as a person dragging it from the desktop would. */
async function drop(selector: string, bytes: Buffer, name: string, type: string) {
  await page.evaluate(
    ([sel, b, n, t]) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([Uint8Array.from(b as number[])], n as string, { type: t as string }));
      const target = document.querySelector(sel as string)!;
      const box = target.getBoundingClientRect();
      target.dispatchEvent(
        new DragEvent('drop', {
          dataTransfer: transfer,
          bubbles: true,
          cancelable: true,
          clientX: box.x + 20,
          clientY: box.y + 20,
        }),
      );
    },
    [selector, [...bytes], name, type] as const,
  );
}

const statusbar = () => page.textContent('[data-testid=statusbar]');

describe('editor first ten minutes (Chromium, coser serve with an empty models folder)', () => {
  it('says "not authorised" for a wrong or missing token, never "not installed"', async () => {
    await page.goto(`${server.url}/#token=wrong-token`);
    await page.waitForSelector('.sidebar .palette-item');
    await expect.poll(() => page.textContent('[data-testid=run-target]')).toMatch(/Server · not authorised/);
    await expect.poll(() => page.textContent('[data-testid=auth-problem]')).toBe(NOT_AUTHORISED);
    await openGraph(upscaleGraph('esrgan-slim-x2'));
    await expect.poll(() => page.textContent(`${node('up')} [data-testid=models-problem]`)).toBe(NOT_AUTHORISED);
    expect(await page.textContent(node('up'))).not.toMatch(/not installed|not listed/);

    // On this device without a token: the model list and the model download are refused the same way.
    await openEditor({ mode: 'local', token: '' });
    await expect.poll(() => page.textContent('[data-testid=auth-problem]')).toBe(NOT_AUTHORISED);
    await openGraph(upscaleGraph('esrgan-slim-x2'));
    await page.setInputFiles(`${node('load')} input[type=file]`, SAMPLE);
    await expect.poll(() => page.locator(`${node('load')} .image-name`).textContent()).toMatch(/astronaut/);
    await page.click('[data-testid=run]');
    const state = await waitForRunEnd(page);
    expect(state.status).toBe('error');
    expect(state.nodes['up']?.error).toMatchObject({ code: 'UNAUTHORIZED', message: NOT_AUTHORISED });
    await expect.poll(() => page.textContent(`${node('up')} .node-diagnostics`)).toContain(NOT_AUTHORISED);
    expect(await page.textContent(node('up'))).not.toMatch(/not installed/);
  }, 180_000);

  it('installs from the model manager and from the Install button on a node; lists refresh and the prompt clears', async () => {
    await openEditor({ mode: 'server', token: server.token });
    await expect.poll(() => page.textContent('[data-testid=run-target]')).toMatch(/Server · connected/);
    await openGraph(upscaleGraph('esrgan-slim-x2'));
    // Before Run, the node says its model is missing on the server and offers to install it.
    await expect
      .poll(() => page.textContent(`${node('up')} [data-testid=model-install]`))
      .toMatch(/esrgan-slim-x2 is not installed on the server \(no download\)/);

    await page.click('[data-testid=models]');
    const row = page.locator('[data-testid=model-manager] tr[data-model="esrgan-slim-x2"]');
    await expect.poll(() => row.locator('[data-testid=model-state]').textContent()).toMatch(/^not installed/);
    expect(await row.locator('[data-testid=model-size]').textContent()).toBe('no download');
    expect(
      await page
        .locator('[data-testid=model-manager] tr[data-model="esrgan-thick-x4"] [data-testid=model-size]')
        .textContent(),
    ).toBe('~110 MB download');
    await row.locator('button', { hasText: 'Install' }).click();
    await expect
      .poll(() => row.locator('[data-testid=model-state]').textContent(), { timeout: 60_000 })
      .toBe('installed');
    expect(await row.locator('[data-testid=model-size]').textContent()).toMatch(/^\d+\.\d MB$/);
    await page.click('[data-testid=model-manager] button:has-text("Close")');

    // Everywhere else too: the prompt is gone and the picker lists the model as installed.
    await expect.poll(() => page.locator(`${node('up')} [data-testid=model-install]`).count()).toBe(0);
    const options = await page.locator(`${node('up')} .model-picker option`).allTextContents();
    expect(options).toContain('esrgan-slim-x2');

    // The same from the node's own Install button.
    await page.evaluate(() => {
      const g = window.coserEditor!.getGraph();
      window.coserEditor!.openGraph({
        ...g,
        nodes: g.nodes.map((n) => (n.id === 'up' ? { ...n, params: { model: 'esrgan-slim-x4' } } : n)),
      });
    });
    await page.click(`${node('up')} [data-testid=install-model]`);
    await expect
      .poll(() => page.locator(`${node('up')} [data-testid=model-install]`).count(), { timeout: 60_000 })
      .toBe(0);
    expect(await page.locator(`${node('up')} .model-picker option`).allTextContents()).toContain('esrgan-slim-x4');
    const installed = JSON.parse(await readFile(join(modelsDir, 'esrgan-slim-x4.json'), 'utf8')) as { sha256: string };
    expect(installed.sha256).toMatch(/^[0-9a-f]{64}$/);
  }, 180_000);

  it('clears badges, node errors and results on New and Open; MODEL_MISSING from the server shows on its node', async () => {
    await page.setInputFiles(`${node('load')} input[type=file]`, SAMPLE);
    await expect.poll(() => page.locator(`${node('load')} .image-name`).textContent()).toMatch(/astronaut/);
    await page.click('[data-testid=run]');
    const done = await waitForRunEnd(page);
    expect(done.error).toBeUndefined();
    await expect.poll(() => page.locator('[data-testid=result-file]').count()).toBe(1);
    expect(await page.locator(`${node('up')} .run-badge`).count()).toBe(1);

    await page.click('button[title="New graph"]');
    await expect.poll(() => page.locator('[data-testid=result-file]').count()).toBe(0);
    expect(await page.textContent('[data-testid=run-status]')).toBe('Not run yet');
    expect((await runState(page)).status).toBe('idle');

    // A model the server does not have: refused at submit, and the refusal is shown on the node it names.
    await openGraph(upscaleGraph('no-such-model', { name: 'Missing model' }));
    await page.setInputFiles(`${node('load')} input[type=file]`, SAMPLE);
    await expect.poll(() => page.locator(`${node('load')} .image-name`).textContent()).toMatch(/astronaut/);
    await page.click('[data-testid=run]');
    const refused = await waitForRunEnd(page);
    expect(refused.status).toBe('error');
    expect(refused.diagnostics?.some((d) => d.code === 'MODEL_MISSING' && d.node === 'up')).toBe(true);
    await expect.poll(() => page.textContent(`${node('up')} .param-message`)).toMatch(/no-such-model/);
    expect(await page.locator(`${node('up')} .coser-node.has-error`).count()).toBe(1);

    await openGraph(upscaleGraph('esrgan-slim-x2', { name: 'Reopened' }));
    await expect.poll(() => page.locator(`${node('up')} .param-message`).count()).toBe(0);
    expect(await page.locator('[data-testid=run-error]').count()).toBe(0);
  }, 180_000);

  it('answers every dropped file on the server: a 20000x20000 PNG and a text file', async () => {
    pageErrors.length = 0;
    await drop('.canvas', headerOnlyPng(20_000, 20_000), 'bomb.png', 'image/png');
    await expect.poll(statusbar).toMatch(/bomb\.png was refused by the server: IMAGE_TOO_LARGE/);
    await drop(`${node('load')} [data-testid=image-drop]`, Buffer.from('just some notes'), 'notes.txt', 'text/plain');
    await expect
      .poll(() => page.textContent(`${node('load')} .param-message`))
      .toMatch(/notes\.txt is not an image Load Image can read/);
    await drop('.canvas', Buffer.from('just some notes'), 'notes.txt', 'text/plain');
    await expect.poll(statusbar).toMatch(/notes\.txt is neither a graph/);
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('shows a value outside its bounds with the bounds, and only the fields Resize uses in its mode', async () => {
    await openGraph({
      format: 'coser-graph',
      version: 1,
      name: 'Bounds',
      description: '',
      nodes: [
        {
          id: 'r',
          type: 'image.resize',
          typeVersion: 1,
          params: { mode: 'scale', scale: 100 },
          position: { x: 0, y: 0 },
        },
      ],
      edges: [],
      inputs: {},
    });
    const fields = () =>
      page.locator(`${node('r')} .param`).evaluateAll((els) => els.map((e) => e.getAttribute('data-param')));
    await expect.poll(fields).toEqual(['mode', 'scale', 'filter', 'antialias']);
    expect(await page.inputValue(`${node('r')} [data-param=scale] input[type=number]`)).toBe('100');
    await expect.poll(() => page.textContent(`${node('r')} [data-param=scale] .param-message`)).toMatch(/0\.01.*16/);

    // Typed out of bounds: kept as typed, not clamped, and shown with the bounds.
    await page.selectOption(`${node('r')} [data-param=mode] select`, 'size');
    await expect.poll(fields).toEqual(['mode', 'width', 'height', 'filter', 'antialias']);
    const width = page.locator(`${node('r')} [data-param=width] input[type=number]`);
    await width.fill('70000');
    await width.press('Enter');
    await expect.poll(() => page.evaluate(() => window.coserEditor!.getGraph().nodes[0]!.params['width'])).toBe(70000);
    await expect.poll(() => page.textContent(`${node('r')} [data-param=width] .param-message`)).toMatch(/0.*65536/);
  }, 60_000);

  it('checks a model file picked for a named model by sha256 and records what ran', async () => {
    await openEditor({ mode: 'local', token: server.token });
    await openGraph(upscaleGraph('esrgan-slim-x2'));
    pageErrors.length = 0;
    // A text file dropped on Load Image is refused here too, before anything is stored.
    await drop(`${node('load')} [data-testid=image-drop]`, Buffer.from('just some notes'), 'notes.txt', 'text/plain');
    await expect
      .poll(() => page.textContent(`${node('load')} .param-message`))
      .toMatch(/notes\.txt is not an image Load Image can read/);
    expect(await page.evaluate(() => window.coserEditor!.getGraph().nodes[0]!.params['path'])).toBe('');

    // The very file the server installed: it runs as esrgan-slim-x2.
    await page.setInputFiles(`${node('up')} [data-testid=model-file]`, join(modelsDir, 'esrgan-slim-x2.onnx'));
    await expect
      .poll(() => page.textContent(`${node('up')} [data-testid=model-file-note]`))
      .toMatch(/is esrgan-slim-x2 \(sha256 [0-9a-f]{12} matches\)/);
    // Another file (the x4 model) picked for esrgan-slim-x2 runs under its own name, as what it is.
    await page.setInputFiles(`${node('up')} [data-testid=model-file]`, join(modelsDir, 'esrgan-slim-x4.onnx'));
    await expect
      .poll(() => page.textContent(`${node('up')} [data-testid=model-file-note]`))
      .toMatch(/esrgan-slim-x4\.onnx runs as esrgan-slim-x4\.onnx: its sha256 [0-9a-f]{12} is not esrgan-slim-x2's/);
    await expect
      .poll(() => page.evaluate(() => window.coserEditor!.getGraph().nodes[1]!.params['model']))
      .toBe('esrgan-slim-x4.onnx');
    // It is a model of this tab now: listed as such, not as "not listed".
    await expect
      .poll(() => page.locator(`${node('up')} .model-picker option`).allTextContents())
      .toContain('esrgan-slim-x4.onnx');
    await page.setInputFiles(`${node('load')} input[type=file]`, SAMPLE);
    await expect.poll(() => page.locator(`${node('load')} .image-name`).textContent()).toMatch(/astronaut/);
    await page.click('[data-testid=run]');
    const state = await waitForRunEnd(page);
    expect(state.error).toBeUndefined();
    await expect.poll(async () => (await runState(page)).files.length).toBe(1);
    const png = new Uint8Array(
      await page.evaluate(
        async (url) => [...new Uint8Array(await (await fetch(url)).arrayBuffer())],
        (await runState(page)).files[0]!.url,
      ),
    );
    const provenance = JSON.parse(readPngTextChunks(png)[PROVENANCE_KEYWORD]!) as {
      models: { name: string; sha256: string }[];
    };
    const x4 = JSON.parse(await readFile(join(modelsDir, 'esrgan-slim-x4.json'), 'utf8')) as { sha256: string };
    expect(provenance.models).toEqual([{ name: 'esrgan-slim-x4.onnx', sha256: x4.sha256 }]);
    // The file's own metadata made it run x4, not as the x2 it was picked for.
    expect(png.length).toBeGreaterThan(0);
    await expect.poll(() => page.textContent('[data-testid=result-size]')).toMatch(/^256×256/);
    expect(pageErrors).toEqual([]);
  }, 180_000);

  it('opens a model-set folder on this device and says in the results that contract models mean nothing', async () => {
    const preset = JSON.parse(await readFile(join(REPO_ROOT, 'graphs/coser-x4.json'), 'utf8')) as GraphFile;
    const fast: GraphFile = {
      ...preset,
      nodes: preset.nodes.map((n) =>
        n.id === 'reference' || n.id === 'restore' ? { ...n, params: { ...n.params, steps: 2 } } : n,
      ),
    };
    await openEditor({ mode: 'local', token: server.token });
    await openGraph(fast);
    // Without a set, the node says where one comes from and offers to open a folder.
    await expect.poll(() => page.textContent(`${node('set')} [data-testid=model-set-hint]`)).toMatch(/docs\/coser\.md/);
    expect(await page.locator(`${node('set')} [data-testid=open-model-set]`).count()).toBe(1);
    await page.setInputFiles(`${node('load')} input[type=file]`, SAMPLE);
    await expect.poll(() => page.locator(`${node('load')} .image-name`).textContent()).toMatch(/astronaut/);
    await page.click('[data-testid=run]');
    const missing = await waitForRunEnd(page);
    expect(missing.status, JSON.stringify({ e: missing.error, n: missing.nodes })).toBe('error');
    expect(missing.nodes['set']?.error?.message).toMatch(/docs\/coser\.md/);
    expect(missing.nodes['set']?.error?.message).not.toMatch(/cannot open model sets/);

    // The fallback folder input (no showDirectoryPicker needed).
    await page.setInputFiles(`${node('set')} [data-testid=model-set-folder]`, contractDir);
    await expect
      .poll(() => page.evaluate(() => window.coserEditor!.getGraph().nodes.find((n) => n.id === 'set')!.params['set']))
      .toBe('coser-contract');
    expect(await page.locator(`${node('set')} [data-testid=model-set-hint]`).count()).toBe(0);
    await page.click('[data-testid=run]');
    const state = await waitForRunEnd(page, 300_000);
    expect(state.error).toBeUndefined();
    expect(state.status).toBe('done');
    await expect
      .poll(() => page.textContent('[data-testid=run-note]'))
      .toMatch(/contract models.*meaningless by design/);
  }, 400_000);
});
