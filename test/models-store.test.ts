// The model store on a temp folder: install, resolve, list, verify, import, and every refusal RELIABILITY.md
// lists for models (pickles, truncated/fuzzed ONNX, external data outside the folder, symlinks).
import { mkdir, readFile, symlink, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_CATALOGUE } from '../packages/nodes/src/models/catalogue';
import { writeInstalled } from '../packages/nodes/src/models/install';
import { modelEntrySchema } from '../packages/nodes/src/models/manifest';
import { createModelStore, type ModelStore } from '../packages/nodes/src/models/model-store';
import { OnnxGraphBuilder } from '../packages/nodes/src/onnx/builder';
import { readOnnxSummary } from '../packages/nodes/src/onnx/reader';
import { makeTempDir } from './helpers/temp-dir';

let dir = '';
let remove: () => Promise<void> = async () => {};
let store: ModelStore;

beforeAll(async () => {
  ({ dir, remove } = await makeTempDir('coser-store-'));
  store = createModelStore(path.join(dir, 'models'));
  await store.add('esrgan-slim-x2');
});
afterAll(() => remove());

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

/** A tiny x2 "super-resolution" model (nearest upscale + 1x1 conv), optionally with external weights. */
function tinyModel(externalLocation?: string): Uint8Array {
  const b = new OnnxGraphBuilder('tiny');
  b.input('input', 'float32', [1, 3, 'h', 'w']);
  const w = externalLocation
    ? b.externalInitializer('w', 'float32', [3, 3, 1, 1], externalLocation)
    : b.initializer('w', 'float32', [3, 3, 1, 1], Float32Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1));
  const scales = b.initializer('scales', 'float32', [4], Float32Array.of(1, 1, 2, 2));
  const [up] = b.node('Resize', ['input', '', scales], { attributes: { mode: 'nearest' } });
  b.node('Conv', [up!, w], { outputs: ['output'] });
  b.output('output', 'float32', [1, 3, 'H', 'W']);
  return b.toBytes();
}

/** Installs a model record by hand (as `add` would), for the refusal cases. */
async function installRaw(name: string, bytes: Uint8Array): Promise<void> {
  const entry = modelEntrySchema.parse({
    name,
    title: name,
    task: 'super-resolution',
    scale: 2,
    inputRange: 1,
    channels: 3,
    licence: 'test',
    source: { kind: 'onnx-file', origin: 'test' },
    file: `${name}.onnx`,
  });
  await writeInstalled(entry, store.dir, bytes, { input: 'input', output: 'output' });
}

describe('model store', () => {
  it('installs a catalogue model and resolves it with its sha256', async () => {
    const { source, entry } = await store.resolve('esrgan-slim-x2');
    expect(source.path).toBe(path.join(store.dir, 'esrgan-slim-x2.onnx'));
    expect(source.key).toBe(source.sha256);
    expect(entry['scale']).toBe(2);
    expect(entry['inputRange']).toBe(255);
    const summary = readOnnxSummary(new Uint8Array(await readFile(source.path!)));
    expect(summary.metadata['coser.source']).toBe('@upscalerjs/esrgan-slim@1.0.0');
    expect(summary.inputs[0]?.dims).toEqual(['batch', 3, 'height', 'width']);
  });

  it('converts a model whose package is installed on first use (no postinstall needed), once', async () => {
    const fresh = createModelStore(path.join(dir, 'fresh'));
    const [a, b] = await Promise.all([fresh.resolve('esrgan-slim-x4'), fresh.resolve('esrgan-slim-x4')]);
    expect(a.source.sha256).toBe(b.source.sha256);
    expect((await fresh.list()).filter((m) => m.installed).map((m) => m.name)).toEqual(['esrgan-slim-x4']);
    // A model that needs a download is never fetched implicitly.
    expect(await codeOf(fresh.resolve('esrgan-thick-x2'))).toBe('MODEL_MISSING');
  });

  it('lists the whole catalogue with what is installed', async () => {
    const listing = await store.list();
    expect(listing.length).toBeGreaterThanOrEqual(MODEL_CATALOGUE.length);
    expect(listing.find((m) => m.name === 'esrgan-slim-x2')?.installed).toBeDefined();
    expect(listing.find((m) => m.name === 'esrgan-thick-x4')?.installed).toBeUndefined();
    expect(listing.filter((m) => m.entry.default).map((m) => m.name)).toEqual([
      'esrgan-slim-x2',
      'esrgan-slim-x4',
      'esrgan-medium-x2',
      'esrgan-medium-x4',
    ]);
  });

  it('MODEL_MISSING says the exact install command', async () => {
    await expect(store.resolve('esrgan-thick-x4')).rejects.toThrow('`npx coser models add esrgan-thick-x4`');
    expect(await codeOf(store.resolve('no-such-model'))).toBe('MODEL_MISSING');
  });

  it('refuses pickle checkpoints without reading them, and names that are paths', async () => {
    // The file does not exist: a store that tried to open it would say FILE_NOT_FOUND instead.
    for (const name of ['evil.pth', 'model.ckpt', 'x.pt', 'weights.pkl'])
      expect(await codeOf(store.add(path.join(dir, name)))).toBe('MODEL_FORBIDDEN');
    expect(await codeOf(store.importOnnx(path.join(dir, 'evil.pth'), { name: 'evil', scale: 2, inputRange: 1 }))).toBe(
      'MODEL_FORBIDDEN',
    );
    for (const name of ['../esrgan-slim-x2', '/etc/passwd', 'a/b', '..'])
      expect(await codeOf(store.resolve(name))).toBe('MODEL_FORBIDDEN');
  });

  it('imports a user ONNX model and refuses one whose signature does not fit', async () => {
    const file = path.join(dir, 'tiny.onnx');
    await writeFile(file, tinyModel());
    const record = await store.importOnnx(file, { name: 'tiny-x2', scale: 2, inputRange: 1 });
    expect(record.source).toEqual({ kind: 'onnx-file', origin: file });
    expect((await store.verify('tiny-x2'))[0]?.ok).toBe(true);

    const b = new OnnxGraphBuilder('mono');
    b.input('input', 'float32', [1, 1, 'h', 'w']);
    b.node('Identity', ['input'], { outputs: ['output'] });
    b.output('output', 'float32', [1, 1, 'h', 'w']);
    await writeFile(path.join(dir, 'mono.onnx'), b.toBytes());
    expect(await codeOf(store.importOnnx(path.join(dir, 'mono.onnx'), { name: 'mono', scale: 1, inputRange: 1 }))).toBe(
      'MODEL_INCOMPATIBLE',
    );
  });

  it('truncated and fuzzed ONNX files give MODEL_CORRUPT and the process carries on', async () => {
    const good = tinyModel();
    await installRaw('trunc', good);
    await truncate(path.join(store.dir, 'trunc.onnx'), Math.floor(good.length / 2));
    expect(await codeOf(store.resolve('trunc'))).toBe('MODEL_CORRUPT');
    const [result] = await store.verify('trunc');
    expect(result).toMatchObject({ ok: false, code: 'MODEL_CORRUPT' });

    // Same size, flipped bytes: the sha256 check catches it.
    await installRaw('flipped', good);
    const bytes = new Uint8Array(await readFile(path.join(store.dir, 'flipped.onnx')));
    for (let i = 10; i < bytes.length; i += 7) bytes[i] = bytes[i]! ^ 0xa5;
    await writeFile(path.join(store.dir, 'flipped.onnx'), bytes);
    expect(await codeOf(store.resolve('flipped'))).toBe('MODEL_CORRUPT');

    // Fuzzed files handed to the reader and to an import never crash.
    let seed = 1;
    for (let n = 0; n < 50; n++) {
      const fuzzed = good.slice(0, 1 + ((n * 37) % good.length));
      for (let i = 0; i < fuzzed.length; i++) {
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
        if (seed % 13 === 0) fuzzed[i] = seed & 0xff;
      }
      try {
        readOnnxSummary(fuzzed);
      } catch (error) {
        expect((error as { code?: string }).code).toBe('MODEL_CORRUPT');
      }
    }
    await writeFile(path.join(dir, 'garbage.onnx'), new Uint8Array([0x08, 0xff, 0xff, 0x12, 0x40, 1, 2, 3]));
    expect(
      await codeOf(store.importOnnx(path.join(dir, 'garbage.onnx'), { name: 'garbage', scale: 2, inputRange: 1 })),
    ).toBe('MODEL_CORRUPT');
    // Still serving: the good model resolves.
    expect((await store.resolve('esrgan-slim-x2')).source.name).toBe('esrgan-slim-x2');
  });

  it('refuses external data that is absolute, climbs out with .., or is a symlink out of the folder', async () => {
    const outside = path.join(dir, 'outside.bin');
    await writeFile(outside, new Uint8Array(36));
    await installRaw('ext-absolute', tinyModel(outside));
    await installRaw('ext-dotdot', tinyModel('../outside.bin'));
    await symlink(outside, path.join(store.dir, 'link.bin'));
    await installRaw('ext-symlink', tinyModel('link.bin'));
    for (const name of ['ext-absolute', 'ext-dotdot', 'ext-symlink'])
      expect(await codeOf(store.resolve(name)), name).toBe('MODEL_FORBIDDEN');

    // External data inside the folder is fine, and onnxruntime loads it.
    await mkdir(path.join(store.dir, 'data'), { recursive: true });
    await writeFile(
      path.join(store.dir, 'data', 'w.bin'),
      new Uint8Array(Float32Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1).buffer),
    );
    await installRaw('ext-inside', tinyModel('data/w.bin'));
    const { source } = await store.resolve('ext-inside');
    const session = await ort.InferenceSession.create(source.path!);
    const out = await session.run({ input: new ort.Tensor('float32', new Float32Array(12).fill(0.5), [1, 3, 2, 2]) });
    expect(out['output']!.dims).toEqual([1, 3, 4, 4]);
    await session.release();
  });

  it('refuses a model file that is a symlink out of the folder', async () => {
    const outsideModel = path.join(dir, 'outside.onnx');
    await writeFile(outsideModel, tinyModel());
    await installRaw('linked', tinyModel());
    const { rm } = await import('node:fs/promises');
    await rm(path.join(store.dir, 'linked.onnx'));
    await symlink(outsideModel, path.join(store.dir, 'linked.onnx'));
    expect(await codeOf(store.resolve('linked'))).toBe('MODEL_FORBIDDEN');
  });

  it('verify reports every installed model', async () => {
    const results = await store.verify();
    const byName = Object.fromEntries(results.map((r) => [r.name, r]));
    expect(byName['esrgan-slim-x2']?.ok).toBe(true);
    expect(byName['trunc']?.code).toBe('MODEL_CORRUPT');
    expect(byName['ext-dotdot']?.code).toBe('MODEL_FORBIDDEN');
  });
});
