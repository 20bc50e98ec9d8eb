// Every preset graph (graphs/*.json) loads, validates against the real registry and runs end to end on a sample
// image, producing all of its outputs. CoSeR presets (coser-*.json) have their own test (coser-presets.test.ts).
//
// Models: default models are installed by `npm install`, so a preset needing a missing default model FAILS here.
// A preset that needs a model outside the defaults (installed on demand with `coser models add NAME`) is skipped
// when that model is missing, with the reason in the test report. How: `checkGraph` reports MODEL_MISSING on the
// node; the model's name is that node's `model`/`set` param (or the name in the install command of the message),
// and the catalogue (`createModelStore(...).list()`, `entry.default`) says whether it is a default.
import { readdirSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { createModelStore } from '@coser/nodes/node';
import {
  applyGraphInputs,
  checkGraph,
  type Diagnostic,
  executeGraph,
  type GraphFile,
  hasErrors,
  loadGraph,
  validateGraph,
} from '@coser/runtime';
import { createLocalEnvironment, defaultModelsDir } from '@coser/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngSize } from './helpers/images';
import { GRAPHS_DIR, SAMPLES_DIR } from './helpers/paths';
import { makeTempDir } from './helpers/temp-dir';

const presets = readdirSync(GRAPHS_DIR)
  .filter((f) => f.endsWith('.json') && !f.startsWith('coser-'))
  .sort();

const SAMPLE = path.join(SAMPLES_DIR, 'astronaut-lr.png');

let dir = '';
let removeDir: () => Promise<void> = async () => {};
/** Models `npm install` installs (the catalogue's defaults). */
let defaultModels: string[] = [];
beforeAll(async () => {
  ({ dir, remove: removeDir } = await makeTempDir('coser-presets-'));
  const listing = await createModelStore(defaultModelsDir()).list();
  defaultModels = listing.filter((m) => m.entry.default).map((m) => m.name);
});
afterAll(() => removeDir());

describe('preset graphs', () => {
  it('include the classic presets', () => {
    expect(presets).toEqual(expect.arrayContaining(['degrade-and-compare.json', 'resize-and-fix.json']));
  });

  for (const preset of presets) {
    it(`${preset} loads, validates and runs`, async (ctx) => {
      const { graph, diagnostics } = loadGraph(await readFile(path.join(GRAPHS_DIR, preset), 'utf8'));
      expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      if (!graph) throw new Error(`${preset} did not load`);
      expect(graph.name).not.toBe('Untitled');
      expect(graph.description.length).toBeGreaterThan(20);

      const outputDir = path.join(dir, preset.replace(/\.json$/, ''));
      const env = createLocalEnvironment({
        outputDir,
        inputRoots: [SAMPLES_DIR, GRAPHS_DIR],
        protectedPaths: [SAMPLE],
      });
      expect(validateGraph(graph, env.registry)).toEqual([]);

      const applied = applyGraphInputs(graph, { inputs: imageInputs(graph), registry: env.registry });
      expect(applied.diagnostics).toEqual([]);
      const checked = await checkGraph(applied.graph, env.registry, { host: env.host, limits: env.limits });
      const optional = missingOptionalModels(applied.graph, checked);
      if (optional.length > 0) {
        ctx.skip(`needs models that are not installed by default: ${optional.join(', ')} (coser models add NAME)`);
      }
      expect(checked.filter((d) => d.severity === 'error')).toEqual([]);

      const result = await executeGraph(applied.graph, env);
      expect(result.error, JSON.stringify(result.error)).toBeUndefined();
      expect(result.status).toBe('done');
      await env.backend.releaseAll();

      // Every output node reported, every file written and readable.
      const outputNodes = applied.graph.nodes.filter((n) => env.registry.get(n.type)?.output);
      expect(outputNodes.length).toBeGreaterThan(0);
      for (const node of outputNodes) {
        const outputs = result.outputs[node.id];
        expect(outputs, `outputs of ${node.id}`).toBeDefined();
        for (const summary of Object.values(outputs ?? {})) {
          if (summary.kind === 'file') {
            expect((await stat(summary.path)).size).toBeGreaterThan(0);
            if (summary.format === 'png')
              expect(pngSize(new Uint8Array(await readFile(summary.path))).width).toBeGreaterThan(0);
          }
          if (summary.kind === 'metrics') {
            for (const value of Object.values(summary.values)) expect(Number.isNaN(value)).toBe(false);
          }
        }
      }
    });
  }
});

describe('the optional-model rule of this test', () => {
  const graph = {
    nodes: [{ id: 'up', type: 'upscale.upscaleImage', typeVersion: 1, params: { model: 'some-big-model' } }],
  } as unknown as GraphFile;
  const missing = (message = 'not installed'): Diagnostic => ({
    severity: 'error',
    code: 'MODEL_MISSING',
    node: 'up',
    message,
  });

  it('skips only for missing models outside the defaults', () => {
    expect(missingOptionalModels(graph, [missing()], ['esrgan-medium-x4'])).toEqual(['some-big-model']);
    expect(missingOptionalModels(graph, [missing()], ['some-big-model'])).toEqual([]);
    expect(missingOptionalModels(graph, [], ['esrgan-medium-x4'])).toEqual([]);
  });

  it('never skips when something else is wrong too, and reads the name from the install command', () => {
    const other: Diagnostic = { severity: 'error', code: 'TYPE_MISMATCH', node: 'up', message: 'x' };
    expect(missingOptionalModels(graph, [missing(), other], [])).toEqual([]);
    const bare = { nodes: [{ id: 'up', type: 't', typeVersion: 1, params: {} }] } as unknown as GraphFile;
    const hint = missing('install it with `npx coser models add anime-x4`');
    expect(missingOptionalModels(bare, [hint], [])).toEqual(['anime-x4']);
  });
});

describe('classic presets measure what they claim', () => {
  it('degrade-and-compare: bicubic x4 round trip gives a finite PSNR well below lossless', async () => {
    const graph = await loadPreset('degrade-and-compare.json');
    const env = createLocalEnvironment({ outputDir: path.join(dir, 'dc'), inputRoots: [SAMPLES_DIR] });
    const { graph: ready } = applyGraphInputs(graph, { inputs: { image: SAMPLE } });
    const result = await executeGraph(ready, env);
    expect(result.status).toBe('done');
    const metrics = result.outputs['compare']?.['metrics'];
    if (metrics?.kind !== 'metrics') throw new Error('compare reported no metrics');
    const psnr = metrics.values['psnr'] ?? Number.NaN;
    // 64 px photo -> 16 px -> 64 px loses a lot of detail, but not everything.
    expect(psnr).toBeGreaterThan(12);
    expect(psnr).toBeLessThan(35);
    const file = result.outputs['save']?.['file'];
    expect(file?.kind === 'file' && path.basename(file.path)).toBe('astronaut-lr-bicubic.png');
  });

  it('resize-and-fix: x4 output whose colour statistics match the input', async () => {
    const graph = await loadPreset('resize-and-fix.json');
    const env = createLocalEnvironment({ outputDir: path.join(dir, 'rf'), inputRoots: [SAMPLES_DIR] });
    const { graph: ready } = applyGraphInputs(graph, { inputs: { image: SAMPLE } });
    const result = await executeGraph(ready, env);
    expect(result.status).toBe('done');
    const file = result.outputs['save']?.['file'];
    if (file?.kind !== 'file') throw new Error('save reported no file');
    expect(pngSize(new Uint8Array(await readFile(file.path)))).toEqual({ width: 256, height: 256 });
    const fixed = result.values.get('colorFix')?.['image'];
    const original = result.values.get('load')?.['image'];
    if (!isImage(fixed) || !isImage(original)) throw new Error('images missing from the run values');
    for (let c = 0; c < 3; c++) expect(channelMean(fixed, c)).toBeCloseTo(channelMean(original, c), 2);
  });
});

async function loadPreset(name: string): Promise<GraphFile> {
  const { graph } = loadGraph(await readFile(path.join(GRAPHS_DIR, name), 'utf8'));
  if (!graph) throw new Error(`${name} did not load`);
  return graph;
}

/** Every graph input bound to a Load Image path gets the sample photo. */
function imageInputs(graph: GraphFile): Record<string, string> {
  const inputs: Record<string, string> = {};
  for (const [name, binding] of Object.entries(graph.inputs)) {
    const node = graph.nodes.find((n) => n.id === binding.node);
    if (node?.type === 'io.loadImage' && binding.param === 'path') inputs[name] = SAMPLE;
  }
  return inputs;
}

/**
 * Names of missing models that are not default models. Returns [] when nothing is missing, and also when a
 * DEFAULT model is missing: then the check's error fails the test, as it should.
 */
function missingOptionalModels(
  graph: GraphFile,
  diagnostics: readonly Diagnostic[],
  defaults: readonly string[] = defaultModels,
): string[] {
  const missing = diagnostics.filter((d) => d.code === 'MODEL_MISSING');
  if (missing.length === 0 || hasErrors(diagnostics.filter((d) => d.code !== 'MODEL_MISSING'))) return [];
  const names = missing.map((d) => {
    const params = graph.nodes.find((n) => n.id === d.node)?.params ?? {};
    const fromParams = [params['model'], params['set'], params['name']].find((v) => typeof v === 'string');
    return typeof fromParams === 'string'
      ? fromParams
      : (/coser models add ([A-Za-z0-9._-]+)/.exec(d.message)?.[1] ?? '');
  });
  return names.every((n) => n !== '' && !defaults.includes(n)) ? names : [];
}

interface PlainImage {
  width: number;
  height: number;
  data: Float32Array;
}

function isImage(value: unknown): value is PlainImage {
  return typeof value === 'object' && value !== null && 'data' in value && value.data instanceof Float32Array;
}

function channelMean(image: PlainImage, channel: number): number {
  const size = image.width * image.height;
  let sum = 0;
  for (let i = channel * size; i < (channel + 1) * size; i++) sum += image.data[i] ?? 0;
  return sum / size;
}
