// Helpers for unit tests of nodes: a small ExecuteContext without the executor, and synthetic images.
import type { ExecuteContext, GraphFile, Host, ImageBuffer, InferenceBackend, RuntimeLimits } from '@coser/runtime';
import { CoserError, createImage, DEFAULT_LIMITS } from '@coser/runtime';

/** A backend for nodes that never infer; `load` refuses so a test notices an unexpected use. */
export const noBackend: InferenceBackend = {
  name: 'test-backend',
  async load(model) {
    throw new CoserError('MODEL_MISSING', `test backend cannot load ${model.name}`);
  },
  async release() {},
  async releaseAll() {},
};

/** A host that refuses everything, for nodes that must not touch files. */
export const noHost: Host = {
  async readInput(name) {
    throw new CoserError('FILE_NOT_FOUND', `test host has no file ${name}`);
  },
  async writeOutput(name) {
    throw new CoserError('PATH_FORBIDDEN', `test host cannot write ${name}`);
  },
  async decodeImage() {
    throw new CoserError('IMAGE_UNSUPPORTED', 'test host cannot decode');
  },
  async encodeImage() {
    throw new CoserError('IMAGE_UNSUPPORTED', 'test host cannot encode');
  },
  async resolveModel(name) {
    throw new CoserError('MODEL_MISSING', `test host has no model ${name}`);
  },
};

export const testGraph: GraphFile = {
  format: 'coser-graph',
  version: 1,
  name: 'test',
  description: '',
  nodes: [
    { id: 'load', type: 'io.loadImage', typeVersion: 1, params: { path: 'in.png' } },
    { id: 'save', type: 'io.saveImage', typeVersion: 1, params: {} },
  ],
  edges: [{ from: { node: 'load', port: 'image' }, to: { node: 'save', port: 'image' } }],
  inputs: {},
};

export interface FakeContextOptions {
  host?: Host;
  backend?: InferenceBackend;
  limits?: Partial<RuntimeLimits>;
  graph?: GraphFile;
  node?: string;
  signal?: AbortSignal;
}

/** An ExecuteContext for calling `definition.execute` directly; progress and previews are recorded. */
export function fakeContext(options: FakeContextOptions = {}): ExecuteContext & {
  progressCalls: [number, number, string | undefined][];
  previews: ImageBuffer[];
} {
  const signal = options.signal ?? new AbortController().signal;
  const progressCalls: [number, number, string | undefined][] = [];
  const previews: ImageBuffer[] = [];
  const node = options.node ?? 'node1';
  return {
    node,
    signal,
    backend: options.backend ?? noBackend,
    host: options.host ?? noHost,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    run: { runId: 'run-test', graph: options.graph ?? testGraph, graphHash: 'f'.repeat(64) },
    progress(value, max, label) {
      progressCalls.push([value, max, label]);
    },
    preview(image) {
      previews.push(image);
    },
    throwIfCancelled() {
      if (signal.aborted) throw new CoserError('CANCELLED', 'run cancelled', { node });
    },
    progressCalls,
    previews,
  };
}

/** A deterministic test image: smooth gradients plus a checker so filters have something to change. */
export function testImage(width: number, height: number, channels: 1 | 3 | 4 = 3): ImageBuffer {
  const size = width * height;
  const data = new Float32Array(size * channels);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const checker = ((x >> 2) + (y >> 2)) % 2 === 0 ? 0.1 : 0;
        data[c * size + y * width + x] = c === 3 ? 1 - x / (2 * width) : ((x + y * (c + 1)) % 97) / 120 + checker;
      }
    }
  }
  return createImage(width, height, channels, data);
}
