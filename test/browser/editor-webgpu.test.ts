// WebGPU in headless Chromium (--enable-unsafe-webgpu: SwiftShader, a software adapter; correct but slow, so the
// input is 8x8). Whatever the adapter can do, the editor must never show a wrong image: either WebGPU's output
// matches onnxruntime-node, or the run fails with MODEL_INCOMPATIBLE and the next "auto" run falls back to WASM.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executeGraph, type GraphFile, type ImageBuffer } from '@coser/runtime';
import { createLocalEnvironment } from '@coser/server';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SerializedImage } from '../../packages/editor/src/components/automation';
import {
  buildEditor,
  launchChromium,
  MODELS_DIR,
  type StaticServer,
  serveEditor,
  storeWithModel,
} from './editor-harness';

const MODEL = 'esrgan-medium-x4';

let dist: string;
let server: StaticServer;
let browser: Browser;
let page: Page;
let work: string;

beforeAll(async () => {
  const store = await storeWithModel(MODEL);
  work = await mkdtemp(join(tmpdir(), 'coser-editor-webgpu-'));
  dist = await buildEditor();
  server = await serveEditor(dist, store);
  browser = await launchChromium(['--enable-unsafe-webgpu']);
  page = await browser.newPage();
  await page.addInitScript(() =>
    localStorage.setItem('coser.editor.settings', JSON.stringify({ mode: 'local', backend: 'auto' })),
  );
  await page.goto(server.url);
  await page.waitForSelector('.sidebar .palette-item');
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dist) await rm(dist, { recursive: true, force: true });
  if (work) await rm(work, { recursive: true, force: true });
});

function graphFor(path: string): GraphFile {
  return {
    format: 'coser-graph',
    version: 1,
    name: 'tiny upscale',
    description: '',
    inputs: {},
    nodes: [
      { id: 'load', type: 'io.loadImage', typeVersion: 1, params: { path } },
      { id: 'up', type: 'upscale.upscaleImage', typeVersion: 1, params: { model: MODEL } },
    ],
    edges: [{ from: { node: 'load', port: 'image' }, to: { node: 'up', port: 'image' } }],
  };
}

function maxDifference(a: ImageBuffer, b: SerializedImage): number {
  expect([b.width, b.height, b.channels]).toEqual([a.width, a.height, a.channels]);
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i]! - b.data[i]!));
  return max;
}

describe('editor on WebGPU (software adapter)', () => {
  it('shows WebGPU output only when it is right, else reports it and falls back to WASM', async () => {
    expect(await page.evaluate(async () => (await navigator.gpu?.requestAdapter()) != null)).toBe(true);
    // An 8x8 colour gradient, made and uploaded in the page.
    const png = (await page.evaluate(`(async () => {
      const canvas = new OffscreenCanvas(8, 8);
      const context = canvas.getContext('2d');
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) {
        context.fillStyle = 'rgb(' + x * 32 + ',' + y * 32 + ',' + (255 - x * 16) + ')';
        context.fillRect(x, y, 1, 1);
      }
      const blob = await canvas.convertToBlob({ type: 'image/png' });
      return [...new Uint8Array(await blob.arrayBuffer())];
    })()`)) as number[];
    const uploaded = await page.evaluate(([b]) => window.coserEditor!.uploadImage('tiny.png', b as number[]), [png]);

    const reference = await (async () => {
      await writeFile(join(work, 'tiny.png'), Uint8Array.from(png));
      const env = createLocalEnvironment({ modelsDir: MODELS_DIR, outputDir: join(work, 'out'), inputRoots: [work] });
      const result = await executeGraph(graphFor('tiny.png'), env);
      expect(result.error).toBeUndefined();
      return result.values.get('up')?.['image'] as ImageBuffer;
    })();

    const run = () =>
      page
        .evaluate((g) => window.coserEditor!.runForValues(g as never, ['up']), graphFor(uploaded))
        .then((values) => ({ ok: true as const, image: values['up']!['image']! }))
        .catch((error: Error) => ({ ok: false as const, message: error.message }));

    const first = await run();
    if (first.ok) {
      // The adapter ran the model: its output must match onnxruntime-node (float32 on another device).
      expect(maxDifference(reference, first.image)).toBeLessThan(1e-2);
    } else {
      expect(first.message).toMatch(/MODEL_INCOMPATIBLE: WebGPU on this device cannot run model esrgan-medium-x4/);
      const second = await run();
      expect(second.ok).toBe(true);
      if (second.ok) expect(maxDifference(reference, second.image)).toBeLessThan(1e-3);
    }
  }, 180_000);
});
