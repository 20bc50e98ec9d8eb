import type { CatalogEntry, Diagnostic, GraphFile } from '@coser/runtime';
import { PORT_KINDS } from '@coser/runtime';
import {
  Background,
  Controls,
  type FinalConnectionState,
  MiniMap,
  type NodeTypes,
  ReactFlow,
  useReactFlow,
  type XYPosition,
} from '@xyflow/react';
import { type DragEvent, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { autosave } from '../graph/autosave';
import { checkWire, indexCatalog, matchingPort, type PortFilter } from '../graph/compat';
import type { CoserFlowEdge, CoserFlowNode } from '../graph/flow-adapter';
import { graphFileName, graphToJson, type OpenedFile, openFile } from '../graph/graph-file-io';
import { withOriginalImageNames } from '../graph/graph-inputs';
import { widgetsForParams } from '../graph/param-schema';
import { isActive } from '../run/run-state';
import type { RuntimeWorker } from '../run/runtime-worker';
import type { EditorSettings } from '../state/settings';
import { createStore, useStore } from '../state/store';
import { EMPTY_GRAPH, useGraphEditor } from '../state/use-graph-editor';
import { useModelManager } from '../state/use-model-manager';
import { useRunController } from '../state/use-run-controller';
import { useAutomationApi } from './automation';
import { CoserNode } from './coser-node';
import { type AnalysisState, EditorContext, type EditorContextValue, groupDiagnostics } from './editor-context';
import { useEditorShortcuts } from './keyboard';
import { ModelManagerDialog } from './model-manager';
import { PALETTE_DRAG_TYPE, Palette } from './palette';
import { ResultsPanel } from './results-panel';
import { Toolbar } from './toolbar';

const nodeTypes: NodeTypes = { coser: CoserNode };
const NO_DIAGNOSTICS: Diagnostic[] = [];

/** The first uploaded image the graph reads: the "before" of the results' comparison slider. */
function findBeforeUrl(graph: GraphFile, uploads: ReadonlyMap<string, string>): string | undefined {
  for (const node of graph.nodes) {
    for (const value of Object.values(node.params)) {
      if (typeof value === 'string' && uploads.has(value)) return uploads.get(value);
    }
  }
  return undefined;
}

interface PopupPalette {
  screen: XYPosition;
  flow: XYPosition;
  filter?: PortFilter;
  /** The dangling wire's end to connect the new node to. */
  from?: { nodeId: string; handle: string; side: 'source' | 'target' };
}

export interface EditorViewProps {
  catalog: CatalogEntry[];
  worker: RuntimeWorker;
  initialGraph: GraphFile;
  settings: EditorSettings;
  onSettings(settings: EditorSettings): void;
  /** No autosaved graph was found: the main job is open with its sample photo, and a line says what to do. */
  firstVisit?: boolean;
}

/** The first visit's one line: what to do with the graph that is open. */
export const FIRST_VISIT_HINT = 'Press Run to upscale the sample photo x4, or drop your own image on the canvas first.';

/** The editor: palette, canvas, results, toolbar; wires the graph model, the worker and the run target together. */
export function EditorView({ catalog, worker, initialGraph, settings, onSettings, firstVisit }: EditorViewProps) {
  const index = useMemo(() => indexCatalog(catalog), [catalog]);
  const editor = useGraphEditor(index, initialGraph);
  const flow = useReactFlow<CoserFlowNode, CoserFlowEdge>();
  const [message, setMessage] = useState<{ text: string; kind: 'error' | 'info' } | undefined>(undefined);
  const report = useCallback((text: string, kind: 'error' | 'info' = 'info') => setMessage({ text, kind }), []);
  // Messages fade after a while so that a stale refusal does not read as current.
  useEffect(() => {
    if (!message) return;
    const timer = setTimeout(() => setMessage(undefined), message.kind === 'error' ? 8000 : 4000);
    return () => clearTimeout(timer);
  }, [message]);
  const runs = useRunController(worker, settings, report);
  const run = useStore(runs.runStore, (s) => s);
  const { refreshModels } = runs;
  const manager = useModelManager(runs.client, refreshModels, report);
  const [modelsOpen, setModelsOpen] = useState(false);
  /** CoSeR model-set folders opened on this device. */
  const [modelSets, setModelSets] = useState<string[]>([]);
  const analysis = useMemo(() => createStore<AnalysisState>({ byNode: {}, staticInfo: {} }), []);
  const [popup, setPopup] = useState<PopupPalette | undefined>(undefined);
  // Shown until the first run, another graph, or a click on its close button.
  const [hint, setHint] = useState(firstVisit === true);
  const fileInput = useRef<HTMLInputElement>(null);

  // Edits reach the saved-file view (and so the autosave) only once they settle; a reload or a closed tab in that
  // moment would lose the last edit, so leaving the page saves the canvas as it is.
  useEffect(() => {
    const flush = () => autosave(editor.toGraph());
    window.addEventListener('pagehide', flush);
    return () => window.removeEventListener('pagehide', flush);
  }, [editor.toGraph]);

  // Validation + static sizes + autosave whenever the saved-file view changes, and again when the model list
  // changed (an install: node checks about models see it).
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs.models is a trigger, the worker reads its own list
  useEffect(() => {
    autosave(editor.graph);
    let stale = false;
    void worker.analyze(editor.graph).then((result) => {
      if (!stale) analysis.set({ byNode: groupDiagnostics(result.diagnostics), staticInfo: result.staticInfo });
    });
    return () => {
      stale = true;
    };
  }, [editor.graph, worker, analysis, runs.models]);

  const context = useMemo<EditorContextValue>(
    () => ({
      catalog: index,
      services: {
        models: runs.models.models,
        ...(runs.models.problem?.code === 'UNAUTHORIZED' ? { modelsProblem: runs.models.problem.message } : {}),
        uploadImage: runs.upload,
        ...(manager.available && manager.catalogue
          ? {
              modelStatus: (name: string) => {
                const model = manager.catalogue?.find((m) => m.name === name && m.inCatalogue);
                if (!model) return undefined;
                const install = manager.installs[name] ?? model.install;
                return { model, ...(install ? { install } : {}) };
              },
              installModel: (name: string) => void manager.install(name),
            }
          : {}),
        ...(settings.mode === 'local'
          ? {
              pickLocalModel: async (name: string, file: File) => {
                const picked = await worker.addModelFile(name, file.name, new Uint8Array(await file.arrayBuffer()));
                // A file that runs under its own name joins the pickers' list.
                if (!picked.matched) refreshModels();
                return picked;
              },
              modelSets,
              openModelSet: (name: string, files: File[]) => {
                worker.addModelSet(name, files);
                setModelSets((open) => [...open.filter((n) => n !== name), name]);
                report(`Opened the model set ${name} on this device (${files.length} files)`);
              },
            }
          : {}),
      },
      updateParams: editor.updateParams,
      analysis,
      run: runs.runStore,
    }),
    [
      index,
      runs.models,
      runs.upload,
      runs.runStore,
      settings.mode,
      worker,
      editor.updateParams,
      analysis,
      manager,
      modelSets,
      report,
      refreshModels,
    ],
  );

  const openGraph = useCallback(
    (graph: GraphFile) => {
      // Badges, node errors and results of the previous graph do not belong to this one.
      runs.reset();
      editor.open(graph);
      setHint(false);
      requestAnimationFrame(() => {
        if (graph.editor?.viewport) void flow.setViewport(graph.editor.viewport);
        else void flow.fitView({ padding: 0.2 });
      });
    },
    [editor, flow, runs.reset],
  );

  const imageLoaderType = useMemo(
    () => catalog.find((e) => widgetsForParams(e.params).some((w) => w.kind === 'image-path'))?.type,
    [catalog],
  );

  const handleOpened = useCallback(
    async (opened: OpenedFile, at?: XYPosition) => {
      if (opened.kind === 'error') return report(opened.message, 'error');
      if (opened.kind === 'graph') {
        openGraph(opened.graph);
        return report(`Opened "${opened.graph.name}"${opened.source === 'png' ? ' from the PNG it produced' : ''}`);
      }
      // A plain image: feed the selected Load Image node, or add one where it was dropped.
      const file = new File([opened.bytes as Uint8Array<ArrayBuffer>], opened.name, { type: `image/${opened.format}` });
      let path: string;
      try {
        path = await runs.upload(file);
      } catch (cause) {
        return report((cause as Error).message, 'error');
      }
      const selected = editor.nodes.find((n) => n.selected && n.data.nodeType === imageLoaderType);
      const spec = imageLoaderType
        ? widgetsForParams(index.get(imageLoaderType)!.params).find((w) => w.kind === 'image-path')
        : undefined;
      if (!imageLoaderType || !spec) return report('No node in this build loads images', 'error');
      const target = selected?.id ?? editor.addNode(imageLoaderType, at ?? { x: 0, y: 0 });
      if (target) editor.updateParams(target, { [spec.key]: path });
      report(`Loaded ${opened.name}`);
    },
    [openGraph, report, runs, editor, imageLoaderType, index],
  );

  const save = useCallback(() => {
    // Dropped images under their own file names, so the file runs with `coser run saved.json --input image=…`.
    const graph: GraphFile = {
      ...withOriginalImageNames(editor.toGraph(), runs.originalNames),
      editor: { viewport: flow.getViewport() },
    };
    const url = URL.createObjectURL(new Blob([graphToJson(graph)], { type: 'application/json' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = graphFileName(graph);
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }, [editor, flow, runs.originalNames]);

  const startRun = useCallback(() => {
    setHint(false);
    void runs.start(editor.toGraph());
  }, [runs, editor]);

  useEditorShortcuts({
    editor,
    fitView: () => void flow.fitView({ padding: 0.2 }),
    save,
    run: startRun,
    openFile: () => fileInput.current?.click(),
  });

  const isValidConnection = useCallback(
    (connection: { source: string; target: string; sourceHandle?: string | null; targetHandle?: string | null }) => {
      const source = flow.getNode(connection.source);
      const target = flow.getNode(connection.target);
      const result = checkWire(
        index,
        { nodeType: source?.data.nodeType, handle: connection.sourceHandle },
        { nodeType: target?.data.nodeType, handle: connection.targetHandle },
        connection.source === connection.target,
      );
      if (!result.ok) setMessage({ text: `Cannot connect: ${result.reason}`, kind: 'error' });
      return result.ok;
    },
    [flow, index],
  );

  const onConnectEnd = useCallback(
    (event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (state.isValid || state.toNode || !state.fromHandle?.id || !state.fromNode) return;
      const node = flow.getNode(state.fromNode.id);
      const entry = node ? index.get(node.data.nodeType) : undefined;
      const side = state.fromHandle.type;
      const spec = side === 'source' ? entry?.outputs[state.fromHandle.id] : entry?.inputs[state.fromHandle.id];
      if (!spec) return;
      const point = 'changedTouches' in event ? event.changedTouches[0]! : event;
      setPopup({
        screen: { x: point.clientX, y: point.clientY },
        flow: flow.screenToFlowPosition({ x: point.clientX, y: point.clientY }),
        filter: {
          kind: spec.kind,
          side: side === 'source' ? 'input' : 'output',
          ...(spec.shape ? { shape: spec.shape } : {}),
        },
        from: { nodeId: state.fromNode.id, handle: state.fromHandle.id, side },
      });
    },
    [flow, index],
  );

  const pickFromPopup = useCallback(
    (entry: CatalogEntry) => {
      if (!popup) return;
      const id = editor.addNode(entry.type, popup.flow);
      if (id && popup.from && popup.filter) {
        const port = matchingPort(entry, popup.filter);
        if (port) {
          editor.connect(
            popup.from.side === 'source'
              ? { source: popup.from.nodeId, sourceHandle: popup.from.handle, target: id, targetHandle: port }
              : { source: id, sourceHandle: port, target: popup.from.nodeId, targetHandle: popup.from.handle },
          );
        }
      }
      setPopup(undefined);
    },
    [popup, editor],
  );

  const onDrop = useCallback(
    (event: DragEvent) => {
      event.preventDefault();
      const position = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      const nodeType = event.dataTransfer.getData(PALETTE_DRAG_TYPE);
      if (nodeType) {
        editor.addNode(nodeType, position);
        return;
      }
      const file = event.dataTransfer.files[0];
      // Every dropped file gets an answer in the status bar, whatever went wrong.
      if (file)
        void openFile(file)
          .then((opened) => handleOpened(opened, position))
          .catch((cause: Error) => report(`${file.name}: ${cause.message}`, 'error'));
    },
    [flow, editor, handleOpened, report],
  );

  // A clicked palette entry lands at the view's centre, moved right past any node already there.
  const addAtCenter = useCallback(
    (entry: CatalogEntry) => {
      const box = document.querySelector('.canvas')?.getBoundingClientRect();
      const center = box ? { x: box.left + box.width / 3, y: box.top + box.height / 3 } : { x: 400, y: 300 };
      const spot = flow.screenToFlowPosition(center);
      const occupied = (x: number, y: number) =>
        editor.nodes.some((n) => Math.abs(n.position.x - x) < 320 && Math.abs(n.position.y - y) < 160);
      while (occupied(spot.x, spot.y)) spot.x += 340;
      editor.addNode(entry.type, spot);
    },
    [editor, flow],
  );

  const beforeUrl = findBeforeUrl(editor.graph, runs.uploads);

  // Wires take the colour of the kind they carry. Keyed on node types only, so dragging does not restyle them.
  const typeSignature = editor.nodes.map((n) => `${n.id}=${n.data.nodeType}`).join('|');
  // biome-ignore lint/correctness/useExhaustiveDependencies: recomputed only when ids or types change (the signature)
  const nodeTypesById = useMemo(() => new Map(editor.nodes.map((n) => [n.id, n.data.nodeType])), [typeSignature]);
  const styledEdges = useMemo(
    () =>
      editor.edges.map((edge) => {
        const nodeType = nodeTypesById.get(edge.source);
        const kind = nodeType && edge.sourceHandle ? index.get(nodeType)?.outputs[edge.sourceHandle]?.kind : undefined;
        return kind ? { ...edge, style: { stroke: PORT_KINDS[kind].color, strokeWidth: 2 } } : edge;
      }),
    [editor.edges, nodeTypesById, index],
  );

  useAutomationApi(editor, runs, worker, openGraph);

  const graphLevel = useStore(analysis, (s) => s.byNode[''] ?? NO_DIAGNOSTICS);
  const active = isActive(run);
  // A refused token is said where it stays visible, not only in a message that fades.
  const authProblem =
    runs.connection?.state === 'refused'
      ? runs.connection.message
      : runs.models.problem?.code === 'UNAUTHORIZED'
        ? runs.models.problem.message
        : undefined;
  return (
    <EditorContext.Provider value={context}>
      <div className="app">
        <Toolbar
          name={editor.meta.name}
          onRename={editor.rename}
          onNew={() => openGraph(EMPTY_GRAPH)}
          onOpenPreset={(graph) => openGraph(graph)}
          onOpenFile={() => fileInput.current?.click()}
          onSave={save}
          onUndo={editor.undo}
          onRedo={editor.redo}
          canUndo={editor.canUndo}
          canRedo={editor.canRedo}
          onFit={() => void flow.fitView({ padding: 0.2 })}
          onRun={startRun}
          onCancel={() => void runs.cancel()}
          running={active}
          settings={settings}
          onSettings={onSettings}
          connection={runs.connection}
          backendLabel={worker.backendLabel}
          onError={(text) => report(text, 'error')}
          {...(manager.available ? { onModels: () => setModelsOpen(true) } : {})}
        />
        {modelsOpen ? <ModelManagerDialog manager={manager} onClose={() => setModelsOpen(false)} /> : null}
        <input
          ref={fileInput}
          type="file"
          hidden
          accept=".json,application/json,image/png,image/jpeg,image/webp"
          data-testid="open-file"
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file)
              void openFile(file)
                .then((opened) => handleOpened(opened))
                .catch((cause: Error) => report(`${file.name}: ${cause.message}`, 'error'));
            e.target.value = '';
          }}
        />
        <div className="workspace">
          <nav className="sidebar">
            <Palette catalog={catalog} onPick={addAtCenter} />
          </nav>
          <main className="canvas" onDragOver={(e) => e.preventDefault()} onDrop={onDrop}>
            <ReactFlow<CoserFlowNode, CoserFlowEdge>
              nodes={editor.nodes}
              edges={styledEdges}
              nodeTypes={nodeTypes}
              onNodesChange={editor.onNodesChange}
              onEdgesChange={editor.onEdgesChange}
              onConnect={editor.connect}
              onConnectEnd={onConnectEnd}
              isValidConnection={isValidConnection}
              onPaneClick={() => setPopup(undefined)}
              onDoubleClick={(e) => {
                if ((e.target as HTMLElement).classList.contains('react-flow__pane')) {
                  setPopup({
                    screen: { x: e.clientX, y: e.clientY },
                    flow: flow.screenToFlowPosition({ x: e.clientX, y: e.clientY }),
                  });
                }
              }}
              zoomOnDoubleClick={false}
              deleteKeyCode={['Delete', 'Backspace']}
              multiSelectionKeyCode={['Meta', 'Control', 'Shift']}
              defaultViewport={initialGraph.editor?.viewport ?? { x: 40, y: 40, zoom: 0.9 }}
              fitView={!initialGraph.editor?.viewport}
              minZoom={0.1}
              colorMode="dark"
              proOptions={{ hideAttribution: true }}
            >
              <Background gap={24} />
              <MiniMap pannable zoomable />
              <Controls />
            </ReactFlow>
            {hint ? (
              <div className="canvas-hint" data-testid="first-visit-hint">
                <span>{FIRST_VISIT_HINT}</span>
                <button type="button" className="hint-close" aria-label="Dismiss" onClick={() => setHint(false)}>
                  ×
                </button>
              </div>
            ) : null}
            {popup ? (
              <div
                className="popup-anchor"
                // Kept inside the window: the palette is 260 x 360 px at most.
                style={{
                  left: Math.max(0, Math.min(popup.screen.x, window.innerWidth - 270)),
                  top: Math.max(0, Math.min(popup.screen.y, window.innerHeight - 370)),
                }}
              >
                <Palette
                  catalog={catalog}
                  {...(popup.filter ? { filter: popup.filter } : {})}
                  onPick={pickFromPopup}
                  onClose={() => setPopup(undefined)}
                  autoFocus
                />
              </div>
            ) : null}
          </main>
          <ResultsPanel run={run} {...(beforeUrl ? { beforeUrl } : {})} />
        </div>
        <footer className={`statusbar ${message?.kind ?? ''}`} data-testid="statusbar">
          <span>{message?.text ?? 'Ready'}</span>
          {authProblem ? (
            <span className="diag error" data-testid="auth-problem">
              {authProblem}
            </span>
          ) : null}
          {graphLevel.length > 0 ? <span className="diag error">{graphLevel[0]!.message}</span> : null}
        </footer>
      </div>
    </EditorContext.Provider>
  );
}
