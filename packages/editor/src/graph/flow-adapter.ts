import type { GraphEdge, GraphFile, GraphInput, GraphNode } from '@coser/runtime';
import { GRAPH_FORMAT, GRAPH_VERSION } from '@coser/runtime';
import type { Edge, Node, Viewport } from '@xyflow/react';

/**
 * What a canvas node carries: exactly the graph node's saved fields. Run state, diagnostics and static info live
 * in separate stores keyed by node id so that they never reach the saved file.
 */
export interface CoserNodeData extends Record<string, unknown> {
  nodeType: string;
  typeVersion: number;
  params: Record<string, unknown>;
  title?: string;
}

export type CoserFlowNode = Node<CoserNodeData, 'coser'>;
export type CoserFlowEdge = Edge;

/** Graph fields the canvas does not show as nodes or edges; carried along unchanged. */
export interface GraphMeta {
  name: string;
  description: string;
  inputs: Record<string, GraphInput>;
  viewport?: Viewport;
}

/** The canvas view of a graph file. */
export interface FlowGraph {
  nodes: CoserFlowNode[];
  edges: CoserFlowEdge[];
  meta: GraphMeta;
}

const COLUMN_WIDTH = 300;
const ROW_HEIGHT = 220;

/** A stable edge id derived from its ends, so the same wiring always maps to the same canvas edge. */
export function edgeId(edge: GraphEdge): string {
  return `${edge.from.node}.${edge.from.port}->${edge.to.node}.${edge.to.port}`;
}

/**
 * Converts a graph file into canvas nodes and edges. Nodes saved without a position (hand-written or CLI-made
 * graphs) are laid out in columns by their depth in the graph.
 *
 * @example
 * const { nodes, edges, meta } = graphToFlow(loadGraph(text).graph!);
 */
export function graphToFlow(graph: GraphFile): FlowGraph {
  const fallback = layoutByDepth(graph);
  const nodes: CoserFlowNode[] = graph.nodes.map((node) => ({
    id: node.id,
    type: 'coser',
    position: node.position ? { ...node.position } : (fallback.get(node.id) ?? { x: 0, y: 0 }),
    data: {
      nodeType: node.type,
      typeVersion: node.typeVersion,
      params: structuredClone(node.params ?? {}),
      ...(node.title !== undefined ? { title: node.title } : {}),
    },
  }));
  const edges: CoserFlowEdge[] = graph.edges.map((edge) => ({
    id: edgeId(edge),
    source: edge.from.node,
    sourceHandle: edge.from.port,
    target: edge.to.node,
    targetHandle: edge.to.port,
  }));
  const meta: GraphMeta = {
    name: graph.name,
    description: graph.description,
    inputs: structuredClone(graph.inputs ?? {}),
    ...(graph.editor?.viewport ? { viewport: { ...graph.editor.viewport } } : {}),
  };
  return { nodes, edges, meta };
}

/**
 * Converts canvas state back into the graph file the CLI runs. Only saved fields are kept (selection, sizes and
 * React Flow internals are dropped); graph inputs bound to a node that no longer exists are dropped too.
 */
export function flowToGraph(
  nodes: readonly CoserFlowNode[],
  edges: readonly CoserFlowEdge[],
  meta: GraphMeta,
): GraphFile {
  const ids = new Set(nodes.map((n) => n.id));
  const graphNodes: GraphNode[] = nodes.map((node) => ({
    id: node.id,
    type: node.data.nodeType,
    typeVersion: node.data.typeVersion,
    params: structuredClone(node.data.params),
    position: { x: Math.round(node.position.x), y: Math.round(node.position.y) },
    ...(node.data.title ? { title: node.data.title } : {}),
  }));
  const graphEdges: GraphEdge[] = [];
  for (const edge of edges) {
    if (!ids.has(edge.source) || !ids.has(edge.target) || !edge.sourceHandle || !edge.targetHandle) continue;
    graphEdges.push({
      from: { node: edge.source, port: edge.sourceHandle },
      to: { node: edge.target, port: edge.targetHandle },
    });
  }
  const inputs: Record<string, GraphInput> = {};
  for (const [name, input] of Object.entries(meta.inputs)) {
    if (ids.has(input.node)) inputs[name] = { ...input };
  }
  return {
    format: GRAPH_FORMAT,
    version: GRAPH_VERSION,
    name: meta.name,
    description: meta.description,
    nodes: graphNodes,
    edges: graphEdges,
    inputs,
    ...(meta.viewport ? { editor: { viewport: { ...meta.viewport } } } : {}),
  };
}

/** A new node id not used in the graph yet: the type's last segment plus a counter (`upscaleImage2`). */
export function freshNodeId(nodeType: string, taken: ReadonlySet<string>): string {
  const base = (nodeType.split('.').pop() ?? 'node').replace(/[^A-Za-z0-9_]/g, '') || 'node';
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) {
    const candidate = `${base}${i}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** Columns by longest path from a source node; cycles (invalid anyway) fall back to column 0. */
function layoutByDepth(graph: GraphFile): Map<string, { x: number; y: number }> {
  const incoming = new Map<string, string[]>();
  for (const edge of graph.edges) {
    const list = incoming.get(edge.to.node) ?? [];
    list.push(edge.from.node);
    incoming.set(edge.to.node, list);
  }
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const depthOf = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    let d = 0;
    for (const from of incoming.get(id) ?? []) d = Math.max(d, depthOf(from) + 1);
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  const rows = new Map<number, number>();
  const positions = new Map<string, { x: number; y: number }>();
  for (const node of graph.nodes) {
    const column = depthOf(node.id);
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    positions.set(node.id, { x: column * COLUMN_WIDTH, y: row * ROW_HEIGHT });
  }
  return positions;
}
