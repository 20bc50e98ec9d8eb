import type { GraphFile } from '@coser/runtime';
import { GRAPH_FORMAT, GRAPH_VERSION } from '@coser/runtime';
import { type Connection, useEdgesState, useNodesState, type XYPosition } from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { CatalogIndex } from '../graph/compat';
import {
  type CoserFlowEdge,
  type CoserFlowNode,
  edgeId,
  flowToGraph,
  freshNodeId,
  type GraphMeta,
  graphToFlow,
} from '../graph/flow-adapter';
import { withImageInputs } from '../graph/graph-inputs';
import { History } from '../graph/history';
import { defaultParams } from '../graph/param-schema';

export const EMPTY_GRAPH: GraphFile = {
  format: GRAPH_FORMAT,
  version: GRAPH_VERSION,
  name: 'Untitled',
  description: '',
  nodes: [],
  edges: [],
  inputs: {},
};

/** Settle time before an edit becomes an undo step (one slider drag = one step, not fifty). */
const COMMIT_DELAY_MS = 300;

/** The graph being edited: canvas state, undo/redo, clipboard, and the saved-file view of it. */
export interface GraphEditor {
  nodes: CoserFlowNode[];
  edges: CoserFlowEdge[];
  meta: GraphMeta;
  onNodesChange: ReturnType<typeof useNodesState<CoserFlowNode>>[2];
  onEdgesChange: ReturnType<typeof useEdgesState<CoserFlowEdge>>[2];
  /** The saved-file view, recomputed after edits settle. */
  graph: GraphFile;
  /** Current file view right now (for save/run, without waiting for the settle delay). */
  toGraph(): GraphFile;
  open(graph: GraphFile): void;
  rename(name: string): void;
  addNode(nodeType: string, position: XYPosition): string | undefined;
  connect(connection: Connection): void;
  updateParams(nodeId: string, patch: Record<string, unknown>): void;
  undo(): void;
  redo(): void;
  canUndo: boolean;
  canRedo: boolean;
  copySelection(): string | undefined;
  paste(text: string, offset?: XYPosition): boolean;
  deleteSelection(): void;
}

export function useGraphEditor(catalog: CatalogIndex, initial: GraphFile): GraphEditor {
  const first = useMemo(() => graphToFlow(initial), [initial]);
  const [nodes, setNodes, onNodesChange] = useNodesState<CoserFlowNode>(first.nodes);
  const [edges, setEdges, onEdgesChange] = useEdgesState<CoserFlowEdge>(first.edges);
  const [meta, setMeta] = useState<GraphMeta>(first.meta);
  const [graph, setGraph] = useState<GraphFile>(initial);
  const history = useRef(new History<GraphFile>(initial));
  const [historyFlags, setHistoryFlags] = useState({ canUndo: false, canRedo: false });
  const latest = useRef({ nodes, edges, meta });
  latest.current = { nodes, edges, meta };

  const toGraph = useCallback(() => flowToGraph(latest.current.nodes, latest.current.edges, latest.current.meta), []);
  const syncFlags = useCallback(
    () => setHistoryFlags({ canUndo: history.current.canUndo, canRedo: history.current.canRedo }),
    [],
  );

  // Edits settle into one undo step and one new saved-file view; a drag in progress is not an edit yet.
  // biome-ignore lint/correctness/useExhaustiveDependencies: edges and meta are read through `latest`; they trigger the commit
  useEffect(() => {
    if (nodes.some((n) => n.dragging)) return;
    const timer = setTimeout(() => {
      const next = toGraph();
      history.current.push(next);
      syncFlags();
      setGraph(next);
    }, COMMIT_DELAY_MS);
    return () => clearTimeout(timer);
  }, [nodes, edges, meta, toGraph, syncFlags]);

  const load = useCallback(
    (next: GraphFile) => {
      const flow = graphToFlow(next);
      setNodes(flow.nodes);
      setEdges(flow.edges);
      setMeta(flow.meta);
    },
    [setNodes, setEdges],
  );

  const open = useCallback(
    (next: GraphFile) => {
      load(next);
      history.current.reset(next);
      setGraph(next);
      syncFlags();
    },
    [load, syncFlags],
  );

  const addNode = useCallback(
    (nodeType: string, position: XYPosition) => {
      const entry = catalog.get(nodeType);
      if (!entry) return undefined;
      const id = freshNodeId(nodeType, new Set(latest.current.nodes.map((n) => n.id)));
      const node: CoserFlowNode = {
        id,
        type: 'coser',
        position,
        selected: true,
        data: { nodeType, typeVersion: entry.typeVersion, params: defaultParams(entry.params) },
      };
      setNodes((ns) => [...ns.map((n) => (n.selected ? { ...n, selected: false } : n)), node]);
      // A new Load Image is a graph input, so the saved graph runs headless with --input image=…
      setMeta((m) => ({ ...m, inputs: withImageInputs(m.inputs, [{ id, entry }]) }));
      return id;
    },
    [catalog, setNodes],
  );

  const connect = useCallback(
    (connection: Connection) => {
      if (!connection.sourceHandle || !connection.targetHandle) return;
      const edge: CoserFlowEdge = {
        id: edgeId({
          from: { node: connection.source, port: connection.sourceHandle },
          to: { node: connection.target, port: connection.targetHandle },
        }),
        source: connection.source,
        sourceHandle: connection.sourceHandle,
        target: connection.target,
        targetHandle: connection.targetHandle,
      };
      // An input takes one wire: a new wire into an occupied input replaces the old one (as in ComfyUI).
      setEdges((es) => [
        ...es.filter((e) => !(e.target === edge.target && e.targetHandle === edge.targetHandle)),
        edge,
      ]);
    },
    [setEdges],
  );

  const updateParams = useCallback(
    (nodeId: string, patch: Record<string, unknown>) => {
      setNodes((ns) =>
        ns.map((n) => (n.id === nodeId ? { ...n, data: { ...n.data, params: { ...n.data.params, ...patch } } } : n)),
      );
    },
    [setNodes],
  );

  const undo = useCallback(() => {
    const previous = history.current.undo();
    if (previous) load(previous);
    syncFlags();
  }, [load, syncFlags]);

  const redo = useCallback(() => {
    const next = history.current.redo();
    if (next) load(next);
    syncFlags();
  }, [load, syncFlags]);

  const copySelection = useCallback(() => {
    const selected = latest.current.nodes.filter((n) => n.selected);
    if (selected.length === 0) return undefined;
    const ids = new Set(selected.map((n) => n.id));
    const inner = latest.current.edges.filter((e) => ids.has(e.source) && ids.has(e.target));
    const clip = flowToGraph(selected, inner, { name: 'clipboard', description: '', inputs: {} });
    return JSON.stringify(clip);
  }, []);

  const paste = useCallback(
    (text: string, offset: XYPosition = { x: 40, y: 40 }) => {
      let clip: GraphFile;
      try {
        clip = JSON.parse(text) as GraphFile;
      } catch {
        return false;
      }
      if (clip?.format !== GRAPH_FORMAT || !Array.isArray(clip.nodes)) return false;
      const taken = new Set(latest.current.nodes.map((n) => n.id));
      const renamed = new Map<string, string>();
      for (const node of clip.nodes) {
        const id = freshNodeId(node.type, taken);
        taken.add(id);
        renamed.set(node.id, id);
      }
      const flow = graphToFlow({
        ...clip,
        inputs: {},
        nodes: clip.nodes.map((n) => ({
          ...n,
          id: renamed.get(n.id)!,
          position: { x: (n.position?.x ?? 0) + offset.x, y: (n.position?.y ?? 0) + offset.y },
        })),
        edges: (clip.edges ?? []).map((e) => ({
          from: { node: renamed.get(e.from.node) ?? e.from.node, port: e.from.port },
          to: { node: renamed.get(e.to.node) ?? e.to.node, port: e.to.port },
        })),
      });
      setNodes((ns) => [
        ...ns.map((n) => (n.selected ? { ...n, selected: false } : n)),
        ...flow.nodes.map((n) => ({ ...n, selected: true })),
      ]);
      setEdges((es) => [...es, ...flow.edges]);
      const added = flow.nodes.map((n) => ({ id: n.id, entry: catalog.get(n.data.nodeType) }));
      setMeta((m) => ({ ...m, inputs: withImageInputs(m.inputs, added) }));
      return true;
    },
    [catalog, setNodes, setEdges],
  );

  const deleteSelection = useCallback(() => {
    const removed = new Set(latest.current.nodes.filter((n) => n.selected).map((n) => n.id));
    setNodes((ns) => ns.filter((n) => !removed.has(n.id)));
    setEdges((es) => es.filter((e) => !e.selected && !removed.has(e.source) && !removed.has(e.target)));
  }, [setNodes, setEdges]);

  const rename = useCallback((name: string) => setMeta((m) => ({ ...m, name })), []);

  return {
    nodes,
    edges,
    meta,
    onNodesChange,
    onEdgesChange,
    graph,
    toGraph,
    open,
    rename,
    addNode,
    connect,
    updateParams,
    undo,
    redo,
    ...historyFlags,
    copySelection,
    paste,
    deleteSelection,
  };
}
