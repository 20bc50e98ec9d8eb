import type { GraphFile } from '@coser/runtime';
import { useEffect } from 'react';
import type { RuntimeWorker } from '../run/runtime-worker';
import type { GraphEditor } from '../state/use-graph-editor';
import type { RunController } from '../state/use-run-controller';

/**
 * `window.coserEditor`: a small scripting surface for browser tests, benchmarks and the devtools console. It only
 * does what the UI can do (read/open the graph, start a run, read the run state), plus reading a node's float
 * output, which the UI shows only as an 8-bit image.
 */
export interface CoserEditorApi {
  getGraph(): GraphFile;
  openGraph(graph: GraphFile): void;
  run(): Promise<void>;
  runState(): unknown;
  /** Uploads image bytes as the image picker does; resolves with the value for Load Image's `path`. */
  uploadImage(name: string, bytes: ArrayLike<number>): Promise<string>;
  /** Runs `graph` on this device and resolves with the image outputs of `nodes` (planar float data as arrays). */
  runForValues(graph: GraphFile, nodes: string[]): Promise<Record<string, Record<string, SerializedImage>>>;
}

export interface SerializedImage {
  width: number;
  height: number;
  channels: number;
  data: number[];
}

declare global {
  interface Window {
    coserEditor?: CoserEditorApi;
  }
}

export function useAutomationApi(
  editor: GraphEditor,
  runs: RunController,
  worker: RuntimeWorker,
  openGraph: (graph: GraphFile) => void,
): void {
  useEffect(() => {
    window.coserEditor = {
      getGraph: () => editor.toGraph(),
      openGraph,
      run: () => runs.start(editor.toGraph()),
      runState: () => runs.runStore.get(),
      uploadImage: (name, bytes) => runs.upload(new File([Uint8Array.from(bytes)], name, { type: 'image/png' })),
      runForValues: (graph, nodes) => collectValues(worker, graph, nodes),
    };
  }, [editor, runs, worker, openGraph]);
}

function collectValues(
  worker: RuntimeWorker,
  graph: GraphFile,
  nodes: string[],
): Promise<Record<string, Record<string, SerializedImage>>> {
  const runId = crypto.randomUUID();
  const values: Record<string, Record<string, SerializedImage>> = {};
  return new Promise((resolve, reject) => {
    let failure: string | undefined;
    const offEvents = worker.subscribe((event) => {
      if (event.runId !== runId) return;
      if (event.type === 'run:error') failure = `${event.code}: ${event.message}`;
      if (event.type === 'run:cancelled') failure = 'cancelled';
    });
    // The worker posts the kept values after the run's final event, on the same channel, so order is kept.
    const offValues = worker.onValues((id, kept) => {
      if (id !== runId) return;
      offValues();
      offEvents();
      if (failure) return reject(new Error(failure));
      for (const { node, port, image } of kept) {
        const { width, height, channels, data } = image;
        (values[node] ??= {})[port] = { width, height, channels, data: Array.from(data) };
      }
      resolve(values);
    });
    worker.run(runId, graph, nodes);
  });
}
