// The CoSeR presets (graphs/coser-*.json) end to end through executeGraph with a generated contract model set:
// without a set they stop at validation naming the missing files; with one, both run and write an x4 PNG.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PROVENANCE_KEYWORD, readPngTextChunks } from '@coser/nodes';
import { writeContractModelSet } from '@coser/nodes/node';
import {
  applyGraphInputs,
  checkGraph,
  executeGraph,
  type GraphFile,
  inferStaticInfo,
  loadGraph,
  type RunEvent,
  validateGraph,
} from '@coser/runtime';
import { createLocalEnvironment } from '@coser/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngSize } from './helpers/images';
import { GRAPHS_DIR, SAMPLES_DIR } from './helpers/paths';
import { makeTempDir } from './helpers/temp-dir';

const SAMPLE = path.join(SAMPLES_DIR, 'astronaut-lr.png');
let dir = '';
let remove: () => Promise<void> = async () => {};

beforeAll(async () => {
  ({ dir, remove } = await makeTempDir('coser-presets-'));
  await writeContractModelSet(path.join(dir, 'models', 'contract'), { channels: 8, tokens: 16, seed: 7 });
});
afterAll(() => remove());

async function preset(name: string): Promise<GraphFile> {
  const { graph, diagnostics } = loadGraph(await readFile(path.join(GRAPHS_DIR, name), 'utf8'));
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  if (!graph) throw new Error(`${name} did not load`);
  return graph;
}

function environment(models: string, out: string) {
  return createLocalEnvironment({
    modelsDir: path.join(dir, models),
    outputDir: path.join(dir, out),
    inputRoots: [SAMPLES_DIR, GRAPHS_DIR],
    protectedPaths: [SAMPLE],
  });
}

/**
 * Small step counts keep the end-to-end runs fast; the tiled preset gets small patches and latent tiles so that a
 * 64 px sample (256 px out) still crosses 2x2 overlapping pixel patches with 2x2 latent tiles each.
 */
const FAST: Record<string, Record<string, unknown>> = {
  'coser-x4.json': { 'set.set': 'contract', 'reference.steps': 4, 'restore.steps': 4 },
  'coser-x4-tiled.json': {
    'set.set': 'contract',
    'restore.steps': 3,
    'restore.patchSize': 192,
    'restore.patchStride': 64,
    'restore.tileSize': 16,
    'restore.tileOverlap': 8,
  },
};

describe('CoSeR presets', () => {
  for (const name of ['coser-x4.json', 'coser-x4-tiled.json']) {
    it(`${name} stops at validation without a model set, naming the files and the docs`, async () => {
      const graph = await preset(name);
      const env = environment('empty-models', 'out-none');
      expect(validateGraph(graph, env.registry)).toEqual([]);
      const { graph: applied } = applyGraphInputs(graph, { inputs: { image: SAMPLE } });
      const checked = await checkGraph(applied, env.registry, { host: env.host, limits: env.limits });
      const errors = checked.filter((d) => d.severity === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ code: 'MODEL_MISSING', node: 'set' });
      expect(errors[0]!.message).toContain('coser-set.json');
      expect(errors[0]!.message).toContain('unet_aia.onnx');
      expect(errors[0]!.message).toContain('docs/coser.md');
    });

    it(`${name} runs end to end on a contract model set`, async () => {
      const graph = await preset(name);
      const env = environment('models', `out-${name}`);
      const { graph: applied, diagnostics } = applyGraphInputs(graph, {
        inputs: { image: SAMPLE },
        set: FAST[name]!,
        registry: env.registry,
      });
      expect(diagnostics).toEqual([]);
      const checked = await checkGraph(applied, env.registry, { host: env.host, limits: env.limits });
      expect(checked.filter((d) => d.severity === 'error')).toEqual([]);
      const statics = inferStaticInfo(applied, env.registry);
      expect(statics['cognitive']?.['cognitive']).toMatchObject({ shape: [1, 50, 'C'] });
      expect(statics['text']?.['negative']).toMatchObject({ shape: [1, 77, 'C'] });

      const events: RunEvent[] = [];
      const result = await executeGraph(applied, env, { onEvent: (e) => events.push(e) });
      await env.backend.releaseAll();
      expect(result.error, JSON.stringify(result.error)).toBeUndefined();
      expect(result.status).toBe('done');
      expect(events.some((e) => e.type === 'node:preview' && e.node === 'restore')).toBe(true);
      expect(events.some((e) => e.type === 'node:progress' && e.node === 'restore')).toBe(true);
      const file = result.outputs['save']?.['file'];
      if (file?.kind !== 'file') throw new Error('no file written');
      const png = new Uint8Array(await readFile(file.path));
      expect(pngSize(png)).toEqual({ width: 256, height: 256 });
      // A contract set says so wherever the result is seen: the run's output summary and the file's provenance.
      expect(file.notes).toEqual([expect.stringMatching(/contract models .* meaningless by design/)]);
      const provenance = JSON.parse(readPngTextChunks(png)[PROVENANCE_KEYWORD] ?? '{}') as { notes?: string[] };
      expect(provenance.notes).toEqual(file.notes);
    }, 180_000); // 36 pixel patches in the tiled preset: a minute alone, more on a loaded machine
  }
});
