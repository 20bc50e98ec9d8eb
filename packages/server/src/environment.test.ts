import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LIMITS } from '@coser/runtime';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createLazyNodeBackend,
  createLocalEnvironment,
  defaultModelsDir,
  executionProvidersFromEnv,
  findRepoRoot,
} from './environment';

const here = path.dirname(fileURLToPath(import.meta.url));

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('defaultModelsDir', () => {
  it('is .models in the workspace root, found from this file', () => {
    vi.stubEnv('COSER_MODELS_DIR', '');
    const root = findRepoRoot(here);
    expect(root).toBeDefined();
    const manifest = JSON.parse(readFileSync(path.join(root ?? '', 'package.json'), 'utf8')) as object;
    expect(manifest).toHaveProperty('workspaces');
    expect(existsSync(path.join(root ?? '', 'packages', 'server'))).toBe(true);
    expect(defaultModelsDir()).toBe(path.join(root ?? '', '.models'));
  });

  it('follows COSER_MODELS_DIR', () => {
    vi.stubEnv('COSER_MODELS_DIR', 'some/relative/models');
    expect(defaultModelsDir()).toBe(path.resolve('some/relative/models'));
  });

  it('finds no root above the file system root', () => {
    expect(findRepoRoot(path.parse(here).root)).toBeUndefined();
  });
});

describe('createLocalEnvironment', () => {
  it('merges limits over the defaults and shares what it is given', () => {
    const first = createLocalEnvironment({ outputDir: 'out', inputRoots: [here], limits: { maxPixels: 1000 } });
    expect(first.limits).toEqual({ ...DEFAULT_LIMITS, maxPixels: 1000 });
    expect(first.registry.has('io.loadImage')).toBe(true);
    const second = createLocalEnvironment({
      outputDir: 'out',
      inputRoots: [here],
      backend: first.backend,
      cache: first.cache,
      models: first.models,
    });
    expect(second.backend).toBe(first.backend);
    expect(second.cache).toBe(first.cache);
    expect(second.models).toBe(first.models);
    expect(second.host).not.toBe(first.host);
  });

  it('loads onnxruntime only when a model is loaded', async () => {
    const backend = createLazyNodeBackend(DEFAULT_LIMITS.memoryBudgetBytes);
    expect(backend.name).toBe('onnxruntime-node');
    // Releasing before anything was loaded must not load onnxruntime just to release nothing.
    await backend.releaseAll();
    await backend.release('nothing');
    await expect(backend.load({ key: 'k', name: 'broken', bytes: new Uint8Array([1, 2, 3]) })).rejects.toMatchObject({
      code: 'MODEL_CORRUPT',
    });
    expect(backend.name).toMatch(/^onnxruntime-node\//);
  });
});

describe('executionProvidersFromEnv', () => {
  it('reads COSER_EXECUTION_PROVIDERS in order and defaults to the CPU', () => {
    expect(executionProvidersFromEnv({})).toEqual(['cpu']);
    expect(executionProvidersFromEnv({ COSER_EXECUTION_PROVIDERS: ' ' })).toEqual(['cpu']);
    expect(executionProvidersFromEnv({ COSER_EXECUTION_PROVIDERS: 'cuda, cpu' })).toEqual(['cuda', 'cpu']);
  });
});
