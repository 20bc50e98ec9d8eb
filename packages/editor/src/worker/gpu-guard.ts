import type { InferenceBackend, InferenceSession } from '@coser/runtime';
import { CoserError } from '@coser/runtime';
import { yieldToEventLoop } from './yielding-backend';

/**
 * WebGPU failures do not reject: an adapter whose limits a model exceeds (SwiftShader allows 8 storage buffers per
 * stage; ESRGAN's 10-input Concat needs 11) gets an invalid pipeline and onnxruntime-web returns garbage. This
 * wrapper listens for the device's uncaptured errors and turns a run that raised one into MODEL_INCOMPATIBLE, so a
 * wrong image is never shown as a result; `onBroken` lets the worker switch to WASM for the next run.
 *
 * `device` gives onnxruntime-web's GPUDevice, which exists once its first WebGPU session has been created.
 */
export function gpuGuardedBackend(
  backend: InferenceBackend,
  device: () => Promise<GPUDevice | undefined>,
  onBroken: () => void,
): InferenceBackend {
  const errors: string[] = [];
  let watched: GPUDevice | undefined;
  const watch = async () => {
    const current = await device().catch(() => undefined);
    if (!current || current === watched || typeof current.addEventListener !== 'function') return;
    watched = current;
    current.addEventListener('uncapturederror', (event: Event) => {
      errors.push((event as GPUUncapturedErrorEvent).error?.message || 'unknown WebGPU error');
    });
  };
  const check = async (name: string) => {
    // Error events are dispatched as tasks: give them a turn before looking.
    await yieldToEventLoop();
    if (errors.length === 0) return;
    const first = (errors[0] ?? '').split('\n')[0];
    errors.length = 0;
    onBroken();
    throw new CoserError(
      'MODEL_INCOMPATIBLE',
      `WebGPU on this device cannot run model ${name} (${first}); the next run on "auto" uses WASM, or choose WASM in the run settings`,
    );
  };
  return {
    name: backend.name,
    async load(model) {
      const session = await backend.load(model);
      await watch();
      await check(model.name);
      const guarded: InferenceSession = {
        key: session.key,
        inputs: session.inputs,
        outputs: session.outputs,
        async run(feeds, options) {
          const result = await session.run(feeds, options);
          await check(model.name);
          return result;
        },
      };
      return guarded;
    },
    release: (key) => backend.release(key),
    releaseAll: () => backend.releaseAll(),
  };
}
