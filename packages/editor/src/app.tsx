import type { CatalogEntry, GraphFile } from '@coser/runtime';
import { ReactFlowProvider } from '@xyflow/react';
import { useEffect, useMemo, useState } from 'react';
import { EditorView } from './components/editor-view';
import { restoreAutosave } from './graph/autosave';
import { mainJobGraph } from './graph/presets';
import { RuntimeWorker } from './run/runtime-worker';
import { type EditorSettings, loadSettings, saveSettings, serverOrigin, takeTokenFromLocation } from './state/settings';

/**
 * Boots the runtime worker, waits for the node catalog, restores the autosaved graph (or, on a first visit, opens
 * the main job), then shows the editor.
 */
export function App() {
  const [settings, setSettings] = useState<EditorSettings>(() => {
    const loaded = takeTokenFromLocation(loadSettings(), location, history);
    saveSettings(loaded);
    return loaded;
  });
  // The worker lives as long as the page; later settings changes reach it through configure().
  const [worker] = useState(
    () =>
      new RuntimeWorker({
        modelsBaseUrl: serverOrigin(settings, location),
        backend: settings.backend,
        ...(settings.token ? { token: settings.token } : {}),
      }),
  );
  const [catalog, setCatalog] = useState<CatalogEntry[] | undefined>(undefined);
  const [failure, setFailure] = useState<string | undefined>(undefined);
  // A first visit (nothing autosaved) opens the main job with its bundled sample photo, ready to run.
  const restored = useMemo(() => restoreAutosave(), []);
  const initialGraph = useMemo<GraphFile>(() => restored ?? mainJobGraph(), [restored]);

  useEffect(() => {
    worker.catalog.then(setCatalog, (error: Error) => setFailure(error.message));
  }, [worker]);

  if (failure) return <div className="boot error">The editor could not start: {failure}</div>;
  if (!catalog) return <div className="boot">Loading CoSeR Studio…</div>;
  return (
    <ReactFlowProvider>
      <EditorView
        catalog={catalog}
        worker={worker}
        initialGraph={initialGraph}
        firstVisit={restored === undefined}
        settings={settings}
        onSettings={(next) => {
          saveSettings(next);
          setSettings(next);
        }}
      />
    </ReactFlowProvider>
  );
}
