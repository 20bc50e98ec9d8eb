// Shared fixtures of the CoSeR tests: a contract model set in a temp folder, a host over it, an onnxruntime-node
// backend that counts its sessions, and an ExecuteContext for calling node definitions directly.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  ExecuteContext,
  Host,
  ImageBuffer,
  InferenceBackend,
  InferenceSession,
  ModelSetRef,
  Tensor,
} from '@coser/runtime';
import { CoserError, createImage, DEFAULT_LIMITS } from '@coser/runtime';
import * as ort from 'onnxruntime-node';
import { writeContractModelSet } from '../packages/nodes/src/coser/contract/generate';
import { createNodeHost } from '../packages/nodes/src/host/node-host';

/** A temp models folder holding one contract set named `contract`. */
export async function contractModels(options: { channels?: number; tokens?: number; seed?: number } = {}) {
  const root = await mkdtemp(join(tmpdir(), 'coser-test-'));
  const modelsDir = join(root, 'models');
  const manifest = await writeContractModelSet(join(modelsDir, 'contract'), { seed: 1, ...options });
  const host = createNodeHost({ inputRoots: [root], outputDir: join(root, 'out'), modelsDir });
  const set: ModelSetRef = { name: 'contract', manifest };
  return {
    root,
    modelsDir,
    setDir: join(modelsDir, 'contract'),
    manifest,
    host,
    set,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** A minimal onnxruntime-node backend that records which sessions are open (to check stage-by-stage release). */
export function countingBackend(): InferenceBackend & { open: Set<string>; peakOpen: number; loads: number } {
  const sessions = new Map<string, ort.InferenceSession>();
  const state = {
    open: new Set<string>(),
    peakOpen: 0,
    loads: 0,
  };
  const backend: InferenceBackend & typeof state = Object.assign(state, {
    name: 'onnxruntime-node/cpu (test)',
    async load(source: { key: string; bytes?: Uint8Array; path?: string }): Promise<InferenceSession> {
      let session = sessions.get(source.key);
      if (!session) {
        const options = { intraOpNumThreads: 1 };
        session = source.bytes
          ? await ort.InferenceSession.create(source.bytes, options)
          : await ort.InferenceSession.create(source.path!, options);
        sessions.set(source.key, session);
        state.loads++;
      }
      state.open.add(source.key);
      state.peakOpen = Math.max(state.peakOpen, state.open.size);
      const s = session;
      return {
        key: source.key,
        inputs: s.inputNames.map((name) => ({ name, dtype: 'float32' })),
        outputs: s.outputNames.map((name) => ({ name, dtype: 'float32' })),
        async run(feeds: Record<string, Tensor>) {
          const ortFeeds: Record<string, ort.Tensor> = {};
          for (const [k, t] of Object.entries(feeds)) ortFeeds[k] = new ort.Tensor(t.dtype, t.data, [...t.dims]);
          const out = await s.run(ortFeeds);
          const result: Record<string, Tensor> = {};
          for (const [k, t] of Object.entries(out)) {
            result[k] = { dtype: t.type as 'float32', dims: [...t.dims], data: t.data as Float32Array };
          }
          return result;
        },
      };
    },
    async release(key: string) {
      state.open.delete(key);
      const s = sessions.get(key);
      sessions.delete(key);
      await s?.release();
    },
    async releaseAll() {
      for (const key of [...sessions.keys()]) await backend.release(key);
    },
  });
  return backend;
}

/** An ExecuteContext for calling a node's execute directly; records progress and previews. */
export function testContext(host: Host, backend: InferenceBackend, signal = new AbortController().signal) {
  const progress: { value: number; max: number; label?: string }[] = [];
  const previews: ImageBuffer[] = [];
  const ctx: ExecuteContext = {
    node: 'test',
    signal,
    backend,
    host,
    limits: DEFAULT_LIMITS,
    run: {
      runId: 'test',
      graph: { format: 'coser-graph', version: 1, name: 't', description: '', nodes: [], edges: [], inputs: {} },
      graphHash: '',
    },
    progress: (value, max, label) => progress.push({ value, max, ...(label ? { label } : {}) }),
    preview: (image) => previews.push(image),
    throwIfCancelled() {
      if (signal.aborted) throw new CoserError('CANCELLED', 'the run was cancelled');
    },
  };
  return { ctx, progress, previews };
}

/** A smooth synthetic RGB test image (values in [0, 1]). */
export function testImage(width: number, height: number, phase = 0): ImageBuffer {
  const data = new Float32Array(width * height * 3);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        data[(c * height + y) * width + x] = 0.5 + 0.4 * Math.sin((x + 2 * c + phase) / 3) * Math.cos(y / 4);
      }
  return createImage(width, height, 3, data);
}
