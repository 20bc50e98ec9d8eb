import type { NodeRegistry } from '../engine/registry';
import type { Diagnostic } from '../errors';
import { isForbiddenKey, scanValue } from './safe-keys';
import type { GraphFile } from './schema';

export interface GraphInputValues {
  /** By graph input name (`--input image=photo.png`). */
  readonly inputs?: Readonly<Record<string, unknown>>;
  /** By `node.param` (`--set up.tileSize=256`). Node ids may contain dots: the longest matching node id wins. */
  readonly set?: Readonly<Record<string, unknown>>;
  /** When given, `set` of a param the node type does not have is refused (UNKNOWN_PORT) instead of ignored. */
  readonly registry?: NodeRegistry;
}

/**
 * Returns a copy of the graph with run-time values applied: named graph inputs and `node.param` overrides. The
 * given graph is never modified. Unknown names are diagnostics (the copy then leaves them out); run
 * `validateGraph` on the result to check the values themselves.
 *
 * @example
 * const { graph: ready, diagnostics } = applyGraphInputs(graph, {
 *   inputs: { image: 'photo.png' },
 *   set: { 'up.tileSize': parseParamValue('256') },
 * });
 */
export function applyGraphInputs(
  graph: GraphFile,
  values: GraphInputValues,
): { graph: GraphFile; diagnostics: Diagnostic[] } {
  const copy = structuredClone(graph);
  const diagnostics: Diagnostic[] = [];
  const err = (d: Omit<Diagnostic, 'severity'>) => diagnostics.push({ severity: 'error', ...d });
  const nodes = new Map(copy.nodes.map((n) => [n.id, n]));

  const assign = (nodeId: string, param: string, value: unknown, what: string) => {
    const problem = scanValue(value, 32);
    if (problem) {
      err({
        code: problem.kind === 'forbidden-key' ? 'FORBIDDEN_KEY' : 'PARAM_INVALID',
        node: nodeId,
        param,
        message: `${what}: the value is not plain JSON data (${problem.kind} at ${problem.path || 'the root'})`,
      });
      return;
    }
    // `params` may come from JSON with no prototype tricks left (loadGraph refuses them); define, don't assign.
    const node = nodes.get(nodeId)!;
    Object.defineProperty(node.params, param, { value, enumerable: true, writable: true, configurable: true });
  };

  for (const [name, value] of Object.entries(values.inputs ?? {})) {
    const binding = Object.hasOwn(copy.inputs, name) ? copy.inputs[name] : undefined;
    if (!binding) {
      const known = Object.keys(copy.inputs);
      err({
        code: 'UNKNOWN_GRAPH_INPUT',
        message: `the graph has no input "${name}"; ${known.length ? `its inputs are: ${known.join(', ')}` : 'it declares no inputs (use --set NODE.PARAM=VALUE)'}`,
      });
      continue;
    }
    if (!nodes.has(binding.node)) {
      err({
        code: 'UNKNOWN_GRAPH_INPUT',
        node: binding.node,
        param: binding.param,
        message: `graph input "${name}" is bound to node "${binding.node}", which is not in the graph`,
      });
      continue;
    }
    if (isForbiddenKey(binding.param)) {
      err({
        code: 'FORBIDDEN_KEY',
        node: binding.node,
        param: binding.param,
        message: `graph input "${name}" is bound to "${binding.param}", which is not allowed as a param name`,
      });
      continue;
    }
    assign(binding.node, binding.param, value, `input "${name}"`);
  }

  for (const [key, value] of Object.entries(values.set ?? {})) {
    const target = splitNodeParam(key, nodes);
    if (!target) {
      err({
        code: key.includes('.') ? 'UNKNOWN_GRAPH_INPUT' : 'USAGE',
        message: key.includes('.')
          ? `--set ${key}: no node in the graph matches (node ids: ${[...nodes.keys()].join(', ')})`
          : `--set ${key}: expected NODE.PARAM=VALUE`,
      });
      continue;
    }
    const [nodeId, param] = target;
    if (isForbiddenKey(param)) {
      err({
        code: 'FORBIDDEN_KEY',
        node: nodeId,
        param,
        message: `--set ${key}: "${param}" is not allowed as a param name`,
      });
      continue;
    }
    const definition = values.registry?.get(nodes.get(nodeId)!.type);
    if (definition && !Object.hasOwn(definition.params.shape as object, param)) {
      err({
        code: 'UNKNOWN_PORT',
        node: nodeId,
        param,
        message: `--set ${key}: ${definition.type} has no param "${param}" (its params: ${Object.keys(definition.params.shape as object).join(', ') || 'none'})`,
      });
      continue;
    }
    assign(nodeId, param, value, `--set ${key}`);
  }
  return { graph: copy, diagnostics };
}

/** Splits `a.b.c` at the last dot whose left side is a node id (ids may contain dots); undefined if none. */
function splitNodeParam(key: string, nodes: ReadonlyMap<string, unknown>): [string, string] | undefined {
  for (let i = key.lastIndexOf('.'); i > 0; i = key.lastIndexOf('.', i - 1)) {
    const nodeId = key.slice(0, i);
    const param = key.slice(i + 1);
    if (param && nodes.has(nodeId)) return [nodeId, param];
  }
  return undefined;
}

/**
 * A command-line value: JSON when it parses (`256`, `true`, `[1,2]`, `"x"`), otherwise the text itself
 * (`photo.png`). Non-finite results (`1e999`) are kept as numbers so validation reports them.
 *
 * @example
 * parseParamValue('256'); // 256
 * parseParamValue('photo.png'); // 'photo.png'
 */
export function parseParamValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
