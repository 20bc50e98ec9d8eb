import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { float32Tensor } from '../image/tensor';
import { tinyAddModel } from '../testing/tiny-onnx';
import { createNodeBackend } from './node-backend';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'coser-backend-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const feeds = (n: number) => ({
  a: float32Tensor(
    [1, n],
    Float32Array.from({ length: n }, (_, i) => i),
  ),
  b: float32Tensor([1, n], new Float32Array(n).fill(10)),
});

describe('createNodeBackend', () => {
  it('runs a model from bytes and from a file, converting tensors', async () => {
    const backend = createNodeBackend({ intraOpThreads: 1 });
    expect(backend.name).toBe('onnxruntime-node/cpu');
    const session = await backend.load({ key: 'add', name: 'tiny-add', bytes: tinyAddModel() });
    expect(session.inputs).toEqual([
      { name: 'a', dtype: 'float32', dims: [1, 'n'] },
      { name: 'b', dtype: 'float32', dims: [1, 'n'] },
    ]);
    expect(session.outputs.map((o) => o.name)).toEqual(['sum']);
    const out = await session.run(feeds(3));
    expect(out['sum']?.dtype).toBe('float32');
    expect(out['sum']?.dims).toEqual([1, 3]);
    expect([...(out['sum']!.data as Float32Array)]).toEqual([10, 11, 12]);

    const file = path.join(dir, 'identity.onnx');
    await writeFile(file, tinyAddModel([2], true));
    const fromFile = await backend.load({ key: 'id', name: 'tiny-identity', path: file });
    const result = await fromFile.run({ a: float32Tensor([2], new Float32Array([5, 6])) });
    expect([...(result['sum']!.data as Float32Array)]).toEqual([5, 6]);
    await backend.releaseAll();
  });

  it('caches sessions by key and releases them under the budget', async () => {
    const backend = createNodeBackend({ memoryBudgetBytes: 1 });
    const first = await backend.load({ key: 'k', name: 'tiny', bytes: tinyAddModel() });
    const again = await backend.load({ key: 'k', name: 'tiny', bytes: tinyAddModel() });
    expect(again.key).toBe(first.key);
    // Loading another model evicts the first (budget of 1 byte); the old handle still works by reloading.
    await backend.load({ key: 'other', name: 'tiny2', bytes: tinyAddModel([2], true) });
    expect([...((await first.run(feeds(1)))['sum']!.data as Float32Array)]).toEqual([10]);
    await backend.release('k');
    await backend.releaseAll();
  });

  it('maps bad, truncated and missing models to codes naming the model', async () => {
    const backend = createNodeBackend();
    const bytes = tinyAddModel();
    await expect(backend.load({ key: 't', name: 'esrgan-broken', bytes: bytes.slice(0, 30) })).rejects.toMatchObject({
      code: 'MODEL_CORRUPT',
      message: expect.stringContaining('esrgan-broken'),
    });
    await expect(backend.load({ key: 'j', name: 'junk', bytes: new Uint8Array([1, 2, 3]) })).rejects.toMatchObject({
      code: 'MODEL_CORRUPT',
    });
    const junkFile = path.join(dir, 'junk.onnx');
    await writeFile(junkFile, 'not a model');
    await expect(backend.load({ key: 'jf', name: 'junk-file', path: junkFile })).rejects.toMatchObject({
      code: 'MODEL_CORRUPT',
    });
    await expect(
      backend.load({ key: 'm', name: 'esrgan-missing', path: path.join(dir, 'nope.onnx') }),
    ).rejects.toMatchObject({ code: 'MODEL_MISSING', message: expect.stringContaining('esrgan-missing') });
    // A failed load is not cached: the next valid load works.
    const ok = await backend.load({ key: 't', name: 'fixed', bytes });
    expect(ok.inputs).toHaveLength(2);
  });

  it('maps runs with wrong inputs to MODEL_INCOMPATIBLE', async () => {
    const backend = createNodeBackend();
    const session = await backend.load({ key: 'add', name: 'tiny-add', bytes: tinyAddModel() });
    await expect(session.run({ a: feeds(2).a })).rejects.toMatchObject({
      code: 'MODEL_INCOMPATIBLE',
      message: expect.stringMatching(/tiny-add needs an input "b"/),
    });
    await expect(session.run({ ...feeds(2), c: feeds(2).a })).rejects.toMatchObject({ code: 'MODEL_INCOMPATIBLE' });
    await expect(session.run({ a: float32Tensor([2], new Float32Array(2)), b: feeds(2).b })).rejects.toMatchObject({
      code: 'MODEL_INCOMPATIBLE',
      message: expect.stringMatching(/shape \[1, n\], got \[2\]/),
    });
    // Shapes that pass the static check but fail inside onnxruntime.
    await expect(session.run({ a: feeds(2).a, b: feeds(3).b })).rejects.toMatchObject({ code: 'MODEL_INCOMPATIBLE' });
    await expect(
      session.run({ a: { dtype: 'int32', dims: [1, 2], data: new Int32Array(2) }, b: feeds(2).b }),
    ).rejects.toMatchObject({ code: 'MODEL_INCOMPATIBLE', message: expect.stringMatching(/float32/) });
    const aborted = new AbortController();
    aborted.abort();
    await expect(session.run(feeds(2), { signal: aborted.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    await backend.releaseAll();
  });
});
