// The editor in headless Chromium: load time to interactive of the built editor, frame time while dragging on a
// 300-node graph, and the WASM run time of the main job graph (graphs/upscale-x4.json) in the browser against
// onnxruntime-node in this process, as a ratio measured in the same run.
// `npm run bench -- editor-load [REPEATS]` (default 5). Needs /usr/bin/chromium.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executeGraph, type GraphFile, loadGraph } from '@coser/runtime';
import { createLocalEnvironment } from '@coser/server';
import {
  buildEditor,
  launchChromium,
  MODELS_DIR,
  REPO_ROOT,
  serveEditor,
  storeWithModel,
} from '../test/browser/editor-harness';

const REPEATS = Number(process.argv[2] ?? 5);
const SAMPLE = join(REPO_ROOT, 'graphs/samples/astronaut-lr.png');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? Number.NaN;
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

/** 100 chains of Load Image -> Resize -> Save Image: 300 nodes, 200 wires, laid out in a grid. */
function bigGraph(): GraphFile {
  const nodes: GraphFile['nodes'] = [];
  const edges: GraphFile['edges'] = [];
  for (let i = 0; i < 100; i++) {
    const y = (i % 25) * 230;
    const x = Math.floor(i / 25) * 1000;
    nodes.push(
      { id: `load${i}`, type: 'io.loadImage', typeVersion: 1, params: { path: '' }, position: { x, y } },
      { id: `resize${i}`, type: 'image.resize', typeVersion: 1, params: {}, position: { x: x + 300, y } },
      { id: `save${i}`, type: 'io.saveImage', typeVersion: 1, params: {}, position: { x: x + 600, y } },
    );
    edges.push(
      { from: { node: `load${i}`, port: 'image' }, to: { node: `resize${i}`, port: 'image' } },
      { from: { node: `resize${i}`, port: 'image' }, to: { node: `save${i}`, port: 'image' } },
    );
  }
  return { format: 'coser-graph', version: 1, name: '300 nodes', description: '', nodes, edges, inputs: {} };
}

const store = await storeWithModel('esrgan-medium-x4');
const dist = await buildEditor();
const server = await serveEditor(dist, store);
const browser = await launchChromium();
console.log(`editor bench: Chromium ${browser.version()}, ${REPEATS} repeats, served from ${server.url}`);

try {
  // 1. Load time to interactive: navigation start -> the palette lists the catalog the worker sent.
  const loads: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 850 } });
    const page = await context.newPage();
    const started = performance.now();
    await page.goto(server.url);
    await page.waitForSelector('.sidebar .palette-item');
    loads.push(performance.now() - started);
    await context.close();
  }
  console.log(
    `load to interactive (fresh context, catalog shown): median ${fmt(median(loads))}, min ${fmt(Math.min(...loads))}`,
  );

  // 2. Frame time (requestAnimationFrame intervals) while dragging one node across a 300-node graph.
  const context = await browser.newContext({ viewport: { width: 1400, height: 850 } });
  const page = await context.newPage();
  await page.goto(server.url);
  await page.waitForSelector('.sidebar .palette-item');
  await page.evaluate((g) => window.coserEditor!.openGraph(g as never), bigGraph());
  await page.waitForFunction(() => document.querySelectorAll('.react-flow__node').length === 300);
  await page.keyboard.press('f');
  await page.waitForTimeout(1000);
  const dragFrames = async () => {
    const header = await page.locator('.react-flow__node[data-id="resize40"] .node-header').boundingBox();
    if (!header) throw new Error('node not visible');
    // A string script: tsx would wrap a named arrow in a `__name` helper that does not exist in the page.
    await page.evaluate(`(() => {
      window.__frames = [];
      window.__stop = false;
      let last = performance.now();
      const tick = (now) => {
        window.__frames.push(now - last);
        last = now;
        if (!window.__stop) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    })()`);
    await page.mouse.move(header.x + 20, header.y + 8);
    await page.mouse.down();
    for (let step = 1; step <= 60; step++) {
      await page.mouse.move(header.x + 20 + step * 4, header.y + 8 + step * 2);
    }
    await page.mouse.up();
    return (await page.evaluate(() => {
      const w = window as unknown as { __frames: number[]; __stop: boolean };
      w.__stop = true;
      return w.__frames.slice(1);
    })) as number[];
  };
  const one = await dragFrames();
  console.log(
    `drag one node on 300 nodes: ${one.length} frames, mean ${fmt(one.reduce((a, b) => a + b, 0) / one.length)}, p95 ${fmt(percentile(one, 0.95))}`,
  );
  await context.close();

  // 3. The main job graph: WASM in the browser's worker vs onnxruntime-node here (same graph, same input).
  const preset = loadGraph(await readFile(join(REPO_ROOT, 'graphs/upscale-x4.json'), 'utf8')).graph!;
  const wasmPage = await (await browser.newContext()).newPage();
  wasmPage.on('crash', () => console.error('the page crashed'));
  wasmPage.on('pageerror', (e) => console.error('page error:', e.message));
  await wasmPage.addInitScript(() =>
    localStorage.setItem('coser.editor.settings', JSON.stringify({ mode: 'local', backend: 'wasm' })),
  );
  await wasmPage.goto(server.url);
  await wasmPage.waitForSelector('.sidebar .palette-item');
  const bytes = [...(await readFile(SAMPLE))];
  const uploaded = await wasmPage.evaluate(
    ([b]) => window.coserEditor!.uploadImage('astronaut-lr.png', b as number[]),
    [bytes],
  );
  const webGraph: GraphFile = {
    ...preset,
    nodes: preset.nodes.map((n) => (n.id === 'load' ? { ...n, params: { ...n.params, path: uploaded } } : n)),
  };
  const webTimes: number[] = [];
  for (let i = 0; i <= REPEATS; i++) {
    // A different overlap each time defeats the worker's output cache (one 64 px tile: same work).
    const g = {
      ...webGraph,
      nodes: webGraph.nodes.map((n) => (n.id === 'upscale' ? { ...n, params: { ...n.params, overlap: 16 + i } } : n)),
    };
    const ms = await wasmPage.evaluate(async (graph) => {
      const t = performance.now();
      await window.coserEditor!.runForValues(graph as never, []);
      return performance.now() - t;
    }, g);
    if (i > 0) webTimes.push(ms);
    else console.log(`  browser first run (wasm compile + session + model download): ${fmt(ms)}`);
  }
  const outputDir = await mkdtemp(join(tmpdir(), 'coser-bench-editor-'));
  const nodeTimes: number[] = [];
  try {
    const env = createLocalEnvironment({ modelsDir: MODELS_DIR, outputDir, inputRoots: [join(REPO_ROOT, 'graphs')] });
    for (let i = 0; i <= REPEATS; i++) {
      const g = {
        ...preset,
        nodes: preset.nodes.map((n) => (n.id === 'upscale' ? { ...n, params: { ...n.params, overlap: 16 + i } } : n)),
      };
      const t = performance.now();
      const result = await executeGraph(g, env);
      if (result.status !== 'done') throw new Error(`node run failed: ${result.error?.message}`);
      if (i > 0) nodeTimes.push(performance.now() - t);
    }
  } finally {
    await rm(outputDir, { recursive: true, force: true });
  }
  const web = median(webTimes);
  const node = median(nodeTimes);
  console.log(
    `upscale-x4 on a 64 px image, warm: browser WASM median ${fmt(web)}, onnxruntime-node median ${fmt(node)}`,
  );
  console.log(`ratio browser WASM / onnxruntime-node: ${(web / node).toFixed(2)}x`);
} finally {
  await browser.close();
  await server.close();
  await rm(dist, { recursive: true, force: true });
}
