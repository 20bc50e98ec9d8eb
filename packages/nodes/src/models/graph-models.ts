/**
 * Which models a graph names: every param whose schema carries the `widget: 'model'` hint (Load Model, Upscale
 * Image, ...), read from the node catalog so that a new node with a model param is found without a list here.
 * Browser-safe: the CLI's `run --install-models` and the editor's install prompts both use it.
 */
import type { CatalogEntry, GraphFile } from '@coser/runtime';

/** One model a graph names: which node and param, and the name. */
export interface GraphModelRef {
  readonly node: string;
  readonly param: string;
  readonly model: string;
}

/**
 * The model names a graph's nodes hold (empty names skipped), in node order.
 *
 * @example
 * const names = new Set(graphModelRefs(graph, registry.catalog()).map((r) => r.model));
 */
export function graphModelRefs(graph: Pick<GraphFile, 'nodes'>, catalog: readonly CatalogEntry[]): GraphModelRef[] {
  // node type -> model params and their defaults (a node that leaves the param out runs its default model).
  const modelParams = new Map<string, [string, unknown][]>();
  for (const entry of catalog) {
    const properties =
      (entry.params as { properties?: Record<string, { widget?: unknown; default?: unknown }> }).properties ?? {};
    const keys = Object.entries(properties)
      .filter(([, schema]) => schema.widget === 'model')
      .map(([key, schema]): [string, unknown] => [key, schema.default]);
    if (keys.length > 0) modelParams.set(entry.type, keys);
  }
  const refs: GraphModelRef[] = [];
  for (const node of graph.nodes) {
    for (const [param, fallback] of modelParams.get(node.type) ?? []) {
      const value = node.params[param] ?? fallback;
      if (typeof value === 'string' && value !== '') refs.push({ node: node.id, param, model: value });
    }
  }
  return refs;
}
