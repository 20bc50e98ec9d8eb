import { sniffImageFormat } from '@coser/nodes';
import type { GraphFile } from '@coser/runtime';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { SAMPLE_IMAGES } from '../graph/samples';
import { type ModelList, type RunClient, RunRefused } from '../run/run-client';
import { IDLE_RUN, isActive, type RunState, reduceRun, submittedRun } from '../run/run-state';
import { createLocalRunClient, type RuntimeWorker } from '../run/runtime-worker';
import { type ConnectionStatus, createServerRunClient, type ServerRunClient } from '../run/server-client';
import { withImagesOnServer } from './images-for-server';
import { type EditorSettings, serverOrigin } from './settings';
import { createStore, type Store } from './store';
import { loadUploads, saveUpload } from './upload-store';

const ACTIVE_RUN_KEY = 'coser.editor.activeRun';

export interface RunController {
  client: RunClient;
  runStore: Store<RunState>;
  connection: ConnectionStatus | undefined;
  /** The models the pickers list, and why the list is short when it is (e.g. the token was refused). */
  models: ModelList;
  /** Lists the models again (after an install), here and in the worker. */
  refreshModels(): void;
  start(graph: GraphFile): Promise<void>;
  cancel(): Promise<void>;
  /**
   * Forgets the current run's badges, errors and results (a new graph was opened); a run still going is
   * cancelled first, so its late events cannot paint over the new graph.
   */
  reset(): void;
  /** URLs of the images a graph may name (uploads, bundled samples), by the param value (for the before image). */
  uploads: Map<string, string>;
  /** The file name each dropped image came with, by the param value that names it (a saved graph uses it). */
  originalNames: ReadonlyMap<string, string>;
  /**
   * Makes a dropped or picked image available to runs; resolves with the value for Load Image's `path`. Rejects,
   * with a message naming the file, for anything but PNG, JPEG or WebP (on either target) and for an upload the
   * server refuses (too large, corrupt).
   */
  upload(file: File): Promise<string>;
}

/**
 * Owns the run target (this device or a server) chosen in the settings, the state of the current run, and the
 * model list the pickers show. Switching targets keeps the graph; an unfinished server run is watched again after
 * a reload or a lost connection.
 */
export function useRunController(
  worker: RuntimeWorker,
  settings: EditorSettings,
  report: (message: string, kind?: 'error' | 'info') => void,
): RunController {
  const runStore = useMemo(() => createStore<RunState>(IDLE_RUN), []);
  const [connection, setConnection] = useState<ConnectionStatus | undefined>(undefined);
  const [models, setModels] = useState<ModelList>({ models: [] });
  const [modelsVersion, setModelsVersion] = useState(0);
  const uploads = useRef(new Map<string, string>(SAMPLE_IMAGES)).current;
  const originalNames = useRef(new Map<string, string>()).current;
  /** Bytes of every image dropped into the editor (either target), by the param value that names it. */
  const images = useRef(new Map<string, Uint8Array>()).current;
  /** Per server origin: a param value naming an image -> that server's upload name for it. */
  const serverNames = useRef(new Map<string, Map<string, string>>()).current;
  const namesOn = useCallback(
    (server: string) => {
      let names = serverNames.get(server);
      if (!names) serverNames.set(server, (names = new Map()));
      return names;
    },
    [serverNames],
  );
  const origin = serverOrigin(settings, location);

  const [client, setClient] = useState<RunClient>(() => createLocalRunClient(worker));

  useEffect(() => {
    worker.configure({
      modelsBaseUrl: origin,
      backend: settings.backend,
      ...(settings.token ? { token: settings.token } : {}),
    });
  }, [worker, origin, settings.backend, settings.token]);

  // The client is made inside the effect so that its cleanup (closing a socket) always pairs with its creation.
  useEffect(() => {
    const current: RunClient =
      settings.mode === 'server'
        ? createServerRunClient({ url: origin, token: settings.token, clientKey: settings.clientKey })
        : createLocalRunClient(worker);
    setClient(current);
    const unsubscribe = current.subscribe((event) => {
      runStore.set((state) => reduceRun(state, event));
      if (!isActive(runStore.get())) localStorage.removeItem(ACTIVE_RUN_KEY);
    });
    let unStatus: (() => void) | undefined;
    if (current.target === 'server') {
      const server = current as ServerRunClient;
      unStatus = server.onStatus(setConnection);
      const saved = localStorage.getItem(ACTIVE_RUN_KEY);
      if (saved) {
        runStore.set({ ...submittedRun('server', saved), status: 'queued' });
        void server.watch(saved);
      }
    } else {
      setConnection(undefined);
    }
    return () => {
      unsubscribe();
      unStatus?.();
      current.dispose();
    };
  }, [settings.mode, settings.token, settings.clientKey, origin, worker, runStore]);

  // The model list follows the target, and is fetched again after an install (modelsVersion).
  useEffect(() => {
    let stale = false;
    void modelsVersion;
    client.listModels().then(
      (list) => !stale && setModels(list),
      (cause: Error) => !stale && setModels({ models: [], problem: { code: 'NOT_READY', message: cause.message } }),
    );
    return () => {
      stale = true;
    };
  }, [client, modelsVersion]);

  const refreshModels = useCallback(() => {
    worker.refreshModels();
    setModelsVersion((v) => v + 1);
  }, [worker]);

  const start = useCallback(
    async (graph: GraphFile) => {
      if (isActive(runStore.get())) return;
      runStore.set(submittedRun(client.target));
      try {
        // Images dropped while running locally are sent to the server first (once), under the server's names.
        const ready =
          client.target === 'server'
            ? await withImagesOnServer(graph, images, namesOn(origin), (name, bytes) => client.uploadImage(name, bytes))
            : graph;
        const runId = await client.submit(ready);
        runStore.set((s) => (s.runId === undefined ? { ...s, runId } : s));
        if (client.target === 'server') localStorage.setItem(ACTIVE_RUN_KEY, runId);
      } catch (cause) {
        const refused = cause instanceof RunRefused ? cause : undefined;
        runStore.set({
          ...IDLE_RUN,
          status: 'error',
          error: { code: (refused?.code ?? 'INTERNAL') as 'INTERNAL', message: String((cause as Error).message) },
          ...(refused?.diagnostics.length ? { diagnostics: refused.diagnostics } : {}),
        });
        report(refused ? `Run refused: ${refused.message}` : `Run failed to start: ${String(cause)}`, 'error');
      }
    },
    [client, runStore, report, images, namesOn, origin],
  );

  const cancel = useCallback(async () => {
    const { runId } = runStore.get();
    if (!runId) return;
    try {
      await client.cancel(runId);
    } catch (cause) {
      report(`Cancel failed: ${(cause as Error).message}`, 'error');
    }
  }, [client, runStore, report]);

  const reset = useCallback(() => {
    const { runId } = runStore.get();
    if (isActive(runStore.get()) && runId) void client.cancel(runId).catch(() => undefined);
    localStorage.removeItem(ACTIVE_RUN_KEY);
    runStore.set(IDLE_RUN);
  }, [client, runStore]);

  const upload = useCallback(
    async (file: File) => {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const format = sniffImageFormat(bytes);
      if (format !== 'png' && format !== 'jpeg' && format !== 'webp') {
        throw new Error(
          `${file.name} is not an image Load Image can read: ${format === 'unknown' ? 'its bytes are no known image format' : `it is ${format.toUpperCase()}`}; use PNG, JPEG or WebP`,
        );
      }
      let name: string;
      try {
        name = await client.uploadImage(file.name, bytes);
      } catch (cause) {
        const refused = cause instanceof RunRefused ? `${cause.code}: ${cause.message}` : String(cause);
        throw new Error(`${file.name} was refused by the server: ${refused}`);
      }
      uploads.set(name, URL.createObjectURL(file));
      images.set(name, bytes);
      originalNames.set(name, file.name);
      const stored = { id: name, name: file.name, bytes, type: file.type, savedAt: Date.now() };
      if (client.target === 'server') {
        namesOn(origin).set(name, name);
        // The worker gets it too, so the graph also runs locally after switching back.
        worker.restoreUpload(name, bytes);
        void saveUpload({ ...stored, server: origin });
      } else {
        void saveUpload(stored);
      }
      return name;
    },
    [client, uploads, originalNames, images, namesOn, origin, worker],
  );

  // Images from before a reload go back into the worker (and the server names they had), so the autosaved graph
  // runs as it did, on either target.
  useEffect(() => {
    void loadUploads().then((stored) => {
      for (const item of stored) {
        worker.restoreUpload(item.id, item.bytes);
        images.set(item.id, item.bytes);
        if (item.name) originalNames.set(item.id, item.name);
        if (item.server) namesOn(item.server).set(item.id, item.id);
        if (!uploads.has(item.id)) {
          uploads.set(
            item.id,
            URL.createObjectURL(new Blob([item.bytes as Uint8Array<ArrayBuffer>], { type: item.type })),
          );
        }
      }
    });
  }, [worker, uploads, originalNames, images, namesOn]);

  return {
    client,
    runStore,
    connection,
    models,
    refreshModels,
    start,
    cancel,
    reset,
    uploads,
    originalNames,
    upload,
  };
}
