// Runs the Upscale Image node directly (no graph) against a models folder the tests convert themselves, so the
// upscale tests never depend on what `npm install` left in .models.
import path from 'node:path';
import { createModelStore, createNodeHost } from '@coser/nodes/node';
import {
  DEFAULT_LIMITS,
  type ExecuteContext,
  type GraphFile,
  type ImageBuffer,
  type InferenceBackend,
  type RuntimeLimits,
} from '@coser/runtime';
import { createNodeBackend } from '@coser/runtime/backend-node';
import { upscaleImage } from '../packages/nodes/src/upscale/upscale-image';

export interface UpscaleHarness {
  readonly modelsDir: string;
  readonly backend: InferenceBackend;
  readonly host: ReturnType<typeof createNodeHost>;
  run(
    image: ImageBuffer,
    params: Partial<import('zod').input<typeof upscaleImage.params>>,
    options?: { limits?: Partial<RuntimeLimits>; progress?: (value: number, max: number) => void },
  ): Promise<ImageBuffer>;
  decode(file: string): Promise<ImageBuffer>;
}

/** Converts `models` into `<dir>/models` (or `modelsDir`) and returns a harness running the node on them. */
export async function createUpscaleHarness(
  dir: string,
  models: readonly string[],
  modelsDir = path.join(dir, 'models'),
): Promise<UpscaleHarness> {
  const store = createModelStore(modelsDir);
  for (const name of models) await store.add(name);
  const backend = createNodeBackend();
  const host = createNodeHost({ inputRoots: ['/'], outputDir: path.join(dir, 'out'), models: store });
  const graph: GraphFile = {
    format: 'coser-graph',
    version: 1,
    name: 'test',
    description: '',
    nodes: [],
    edges: [],
    inputs: {},
  };
  return {
    modelsDir,
    backend,
    host,
    async run(image, params, options = {}) {
      const controller = new AbortController();
      const ctx: ExecuteContext = {
        node: 'up',
        signal: controller.signal,
        backend,
        host,
        limits: { ...DEFAULT_LIMITS, ...options.limits },
        run: { runId: 'test', graph, graphHash: '0'.repeat(64) },
        progress: (value, max) => options.progress?.(value, max),
        preview: () => {},
        throwIfCancelled: () => {
          if (controller.signal.aborted) throw new Error('cancelled');
        },
      };
      const parsed = upscaleImage.params.parse(params);
      const { image: out } = await upscaleImage.execute(
        // An unconnected optional input arrives as undefined.
        { image } as Parameters<typeof upscaleImage.execute>[0],
        parsed,
        ctx,
      );
      return out;
    },
    async decode(file) {
      const { readFile } = await import('node:fs/promises');
      return host.decodeImage(new Uint8Array(await readFile(file)), { maxPixels: DEFAULT_LIMITS.maxPixels });
    },
  };
}
