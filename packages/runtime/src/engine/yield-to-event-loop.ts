/**
 * Lets the host's event loop run before the next node. Most node code is synchronous typed-array work and the
 * executor's awaits between nodes are only microtasks, so without this a whole graph would hold the loop: a cancel
 * arriving over socket.io, Redis or a worker message would not be read until the run had finished.
 *
 * Uses `setImmediate` where it exists (Node: microseconds) and a MessageChannel elsewhere (browsers and workers),
 * never `setTimeout`, which browsers clamp to 4 ms once nested.
 */
export function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  if (immediate) return new Promise((resolve) => immediate(resolve));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
