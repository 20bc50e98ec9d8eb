import type { InferenceBackend, InferenceSession } from '@coser/runtime';
import { CoserError } from '@coser/runtime';

/**
 * Lets a cancel reach a busy worker. onnxruntime-web's WASM runs block the worker's event loop and a run's other
 * steps chain as microtasks, so the UI's "cancel" message (a macrotask) would only be read once the whole run is
 * over. Before each inference call this wrapper yields one macrotask turn, so a pending cancel aborts the run's
 * signal, and then refuses to start the call when it was aborted.
 */
export function yieldingBackend(backend: InferenceBackend): InferenceBackend {
  const wrapped = new WeakMap<InferenceSession, InferenceSession>();
  return {
    name: backend.name,
    async load(model) {
      const session = await backend.load(model);
      let proxy = wrapped.get(session);
      if (!proxy) {
        proxy = {
          key: session.key,
          inputs: session.inputs,
          outputs: session.outputs,
          async run(feeds, options) {
            await yieldToEventLoop();
            if (options?.signal?.aborted) throw new CoserError('CANCELLED', 'the run was cancelled');
            return session.run(feeds, options);
          },
        };
        wrapped.set(session, proxy);
      }
      return proxy;
    },
    release: (key) => backend.release(key),
    releaseAll: () => backend.releaseAll(),
  };
}

/** One macrotask turn without setTimeout's 4 ms clamp. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
