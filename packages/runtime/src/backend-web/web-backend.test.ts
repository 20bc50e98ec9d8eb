import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { float32Tensor } from '../image/tensor';
import { tinyAddModel } from '../testing/tiny-onnx';
import { createWebBackend } from './web-backend';

// onnxruntime-web's WASM build also runs in Node, which is enough to test the adapter; the editor's browser tests
// cover WebGPU and threads.
ort.env.wasm.numThreads = 1;

describe('createWebBackend', () => {
  it('runs a model from bytes on WASM and caches the session', async () => {
    const backend = createWebBackend(ort, { executionProviders: ['wasm'] });
    expect(backend.name).toBe('onnxruntime-web/wasm');
    const session = await backend.load({ key: 'add', name: 'tiny-add', bytes: tinyAddModel() });
    const out = await session.run({
      a: float32Tensor([1, 2], new Float32Array([1, 2])),
      b: float32Tensor([1, 2], new Float32Array([3, 4])),
    });
    expect([...(out['sum']!.data as Float32Array)]).toEqual([4, 6]);
    expect((await backend.load({ key: 'add', name: 'tiny-add', bytes: tinyAddModel() })).key).toBe('add');
    await backend.releaseAll();
  });

  it('refuses models without bytes and corrupt bytes with codes', async () => {
    const backend = createWebBackend(ort, { executionProviders: ['wasm'] });
    await expect(backend.load({ key: 'p', name: 'by-path', path: '/x.onnx' })).rejects.toMatchObject({
      code: 'MODEL_MISSING',
    });
    await expect(backend.load({ key: 'c', name: 'cut', bytes: tinyAddModel().slice(0, 25) })).rejects.toMatchObject({
      code: 'MODEL_CORRUPT',
      message: expect.stringContaining('cut'),
    });
  });
});
