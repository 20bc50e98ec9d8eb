import { CoserError } from '../errors';
import type { GraphFile } from '../graph/schema';

/** The result of ordering a graph: nodes in dependency order, and the cycles that prevented a full order. */
export interface TopologicalResult {
  /** Every node not on or behind a cycle, each after all nodes feeding it (ties keep file order). */
  order: string[];
  /** Each cycle as the list of its nodes in edge order (a self-loop is a one-node cycle). */
  cycles: string[][];
}

/**
 * Kahn's algorithm over node ids and edges. Edges naming unknown nodes are ignored (validation reports them).
 * Deterministic: among ready nodes, the one listed first in the file runs first.
 */
export function topologicalSort(
  nodeIds: readonly string[],
  edges: readonly { from: { node: string }; to: { node: string } }[],
): TopologicalResult {
  const index = new Map<string, number>();
  nodeIds.forEach((id, i) => {
    if (!index.has(id)) index.set(id, i);
  });
  const successors = nodeIds.map((): number[] => []);
  const predecessors = nodeIds.map((): number[] => []);
  const inDegree = new Array<number>(nodeIds.length).fill(0);
  for (const edge of edges) {
    const from = index.get(edge.from.node);
    const to = index.get(edge.to.node);
    if (from === undefined || to === undefined) continue;
    successors[from]!.push(to);
    predecessors[to]!.push(from);
    inDegree[to]!++;
  }
  // Ready nodes in a min-heap by file position: among nodes that could run, the one listed first runs first, so
  // the order follows the file wherever dependencies allow (predictable logs and progress).
  const ready = new MinHeap();
  for (let i = 0; i < nodeIds.length; i++) if (inDegree[i] === 0 && index.get(nodeIds[i]!) === i) ready.push(i);
  const order: string[] = [];
  const placed = new Array<boolean>(nodeIds.length).fill(false);
  while (ready.size > 0) {
    const current = ready.pop();
    placed[current] = true;
    order.push(nodeIds[current]!);
    for (const next of successors[current]!) {
      if (--inDegree[next]! === 0) ready.push(next);
    }
  }
  const cycles: string[][] = [];
  if (order.length < index.size) {
    // Every unplaced node has an unplaced predecessor; walking predecessors must revisit a node: that is a cycle.
    const visited = new Array<boolean>(nodeIds.length).fill(false);
    for (const start of index.values()) {
      if (placed[start] || visited[start]) continue;
      const walk: number[] = [];
      const positionInWalk = new Map<number, number>();
      let current: number | undefined = start;
      while (current !== undefined && !visited[current]) {
        visited[current] = true;
        positionInWalk.set(current, walk.length);
        walk.push(current);
        current = predecessors[current]!.find((p) => !placed[p]);
      }
      if (current !== undefined && positionInWalk.has(current)) {
        // The walk went backwards along edges; reverse it to read in edge direction.
        const loop = walk.slice(positionInWalk.get(current)!).reverse();
        cycles.push(loop.map((i) => nodeIds[i]!));
      }
    }
  }
  return { order, cycles };
}

/** `a -> b -> a` for messages. */
export function describeCycle(cycle: readonly string[]): string {
  return [...cycle, cycle[0]].join(' -> ');
}

/**
 * The order in which the executor runs a graph's nodes. Throws CoserError GRAPH_CYCLE naming the nodes of the
 * first cycle (validation reports every cycle as a diagnostic before a run gets here).
 */
export function planExecution(graph: Pick<GraphFile, 'nodes' | 'edges'>): string[] {
  const { order, cycles } = topologicalSort(
    graph.nodes.map((n) => n.id),
    graph.edges,
  );
  const first = cycles[0];
  if (first) {
    throw new CoserError('GRAPH_CYCLE', `the graph has a cycle: ${describeCycle(first)}`, { node: first[0] });
  }
  return order;
}

/** A binary min-heap of integers. */
class MinHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(value: number): void {
    const items = this.items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= value) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= items.length) break;
        const right = left + 1;
        const child = right < items.length && items[right]! < items[left]! ? right : left;
        if (items[child]! >= last) break;
        items[i] = items[child]!;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}
