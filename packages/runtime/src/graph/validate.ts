import type { AnyNodeDefinition, CheckContext, PortMap } from '../engine/node-definition';
import { describeCycle, topologicalSort } from '../engine/planner';
import type { NodeRegistry } from '../engine/registry';
import { type Diagnostic, hasErrors, isCoserError } from '../errors';
import { parseNodeParams } from './params';
import { canConnect, type StaticInfo } from './ports';
import { isForbiddenKey } from './safe-keys';
import type { GraphFile, GraphNode } from './schema';

export interface ValidateOptions {
  /** Graphs with more nodes are refused (GRAPH_TOO_LARGE) before any other check. Default 5000. */
  readonly maxNodes?: number;
}

export const DEFAULT_MAX_NODES = 5000;

/**
 * Checks a loaded graph against the node registry: node types and versions, ports, port kinds, one edge per
 * input, required inputs, cycles, params (zod, with bounds) and graph inputs. Returns every problem found, each
 * naming the node and port or param; never throws (a bug in here becomes an INTERNAL diagnostic).
 *
 * @example
 * const diagnostics = validateGraph(graph, registry);
 * if (hasErrors(diagnostics)) return printDiagnostics(diagnostics);
 */
export function validateGraph(graph: GraphFile, registry: NodeRegistry, options: ValidateOptions = {}): Diagnostic[] {
  try {
    return validate(graph, registry, options.maxNodes ?? DEFAULT_MAX_NODES);
  } catch (cause) {
    return [
      {
        severity: 'error',
        code: 'INTERNAL',
        message: `validation failed unexpectedly: ${cause instanceof Error ? cause.message : String(cause)}`,
      },
    ];
  }
}

function validate(graph: GraphFile, registry: NodeRegistry, maxNodes: number): Diagnostic[] {
  const out: Diagnostic[] = [];
  const err = (d: Omit<Diagnostic, 'severity'>) => out.push({ severity: 'error', ...d });
  if (graph.nodes.length > maxNodes) {
    err({
      code: 'GRAPH_TOO_LARGE',
      message: `the graph has ${graph.nodes.length} nodes, over the limit of ${maxNodes}`,
    });
    return out;
  }

  const nodes = new Map<string, GraphNode>();
  const definitions = new Map<string, AnyNodeDefinition>();
  for (const node of graph.nodes) {
    if (isForbiddenKey(node.id)) {
      err({ code: 'FORBIDDEN_KEY', node: node.id, message: `"${node.id}" is not allowed as a node id` });
      continue;
    }
    if (nodes.has(node.id)) {
      err({ code: 'DUPLICATE_ID', node: node.id, message: `two nodes have the id "${node.id}"` });
      continue;
    }
    nodes.set(node.id, node);
    const definition = registry.get(node.type);
    if (!definition) {
      err({
        code: 'UNKNOWN_NODE_TYPE',
        node: node.id,
        message: `node "${node.id}" has unknown type "${node.type}" (from a newer version? or a plugin not installed)`,
      });
      continue;
    }
    definitions.set(node.id, definition);
    out.push(...parseNodeParams(definition, node).diagnostics);
  }

  // Edges: both ends exist, ports exist, kinds fit, and at most one edge per input.
  const fedInputs = new Map<string, number>();
  for (const edge of graph.edges) {
    const { from, to } = edge;
    const fromDef = checkEnd(from.node, from.port, 'output', nodes, definitions, err);
    const toDef = checkEnd(to.node, to.port, 'input', nodes, definitions, err);
    if (!toDef) continue;
    // Count the input as fed even when the other end is broken, so one bad edge gives one diagnostic.
    const key = `${to.node}\u0000${to.port}`;
    const count = (fedInputs.get(key) ?? 0) + 1;
    fedInputs.set(key, count);
    if (count === 2) {
      err({
        code: 'INPUT_MULTIPLE',
        node: to.node,
        port: to.port,
        message: `input ${to.node}.${to.port} has more than one edge into it; an input takes one connection`,
      });
    }
    if (!fromDef) continue;
    const verdict = canConnect(fromDef.outputs[from.port]!, toDef.inputs[to.port]!);
    if (!verdict.ok) {
      err({
        code: 'TYPE_MISMATCH',
        node: to.node,
        port: to.port,
        message: `${from.node}.${from.port} cannot feed ${to.node}.${to.port}: ${verdict.reason}`,
      });
    }
  }

  for (const [id, definition] of definitions) {
    for (const [portName, spec] of Object.entries(definition.inputs as PortMap)) {
      if (!spec.optional && !fedInputs.has(`${id}\u0000${portName}`)) {
        err({
          code: 'INPUT_UNCONNECTED',
          node: id,
          port: portName,
          message: `required input ${id}.${portName} (${spec.kind}) is not connected`,
        });
      }
    }
  }

  const { cycles } = topologicalSort([...nodes.keys()], graph.edges);
  for (const cycle of cycles) {
    err({
      code: 'GRAPH_CYCLE',
      node: cycle[0]!,
      message:
        cycle.length === 1
          ? `node "${cycle[0]}" feeds itself (${describeCycle(cycle)})`
          : `the graph has a cycle: ${describeCycle(cycle)}`,
    });
  }

  for (const [name, binding] of Object.entries(graph.inputs)) {
    const node = nodes.get(binding.node);
    if (!node) {
      err({
        code: 'UNKNOWN_GRAPH_INPUT',
        node: binding.node,
        param: binding.param,
        message: `graph input "${name}" names node "${binding.node}", which is not in the graph`,
      });
      continue;
    }
    const definition = definitions.get(binding.node);
    const shape = definition ? (definition.params.shape as Record<string, unknown>) : undefined;
    if (shape && !Object.hasOwn(shape, binding.param)) {
      err({
        code: 'UNKNOWN_GRAPH_INPUT',
        node: binding.node,
        param: binding.param,
        message: `graph input "${name}" names param "${binding.param}", which ${definition!.type} does not have (its params: ${Object.keys(shape).join(', ') || 'none'})`,
      });
    }
  }
  return out;
}

function checkEnd(
  nodeId: string,
  portName: string,
  side: 'input' | 'output',
  nodes: ReadonlyMap<string, GraphNode>,
  definitions: ReadonlyMap<string, AnyNodeDefinition>,
  err: (d: Omit<Diagnostic, 'severity'>) => void,
): AnyNodeDefinition | undefined {
  if (!nodes.has(nodeId)) {
    err({
      code: 'UNKNOWN_PORT',
      node: nodeId,
      port: portName,
      message: `an edge ${side === 'output' ? 'comes from' : 'goes to'} node "${nodeId}", which is not in the graph`,
    });
    return undefined;
  }
  const definition = definitions.get(nodeId);
  if (!definition) return undefined; // unknown type, already reported
  const ports = side === 'output' ? definition.outputs : definition.inputs;
  if (!Object.hasOwn(ports, portName)) {
    err({
      code: 'UNKNOWN_PORT',
      node: nodeId,
      port: portName,
      message: `${definition.type} node "${nodeId}" has no ${side} "${portName}" (its ${side}s: ${Object.keys(ports).join(', ') || 'none'})`,
    });
    return undefined;
  }
  return definition;
}

/**
 * `validateGraph` plus each node's own environment checks (`check`: model installed, model fits the node), run
 * only when the structure is valid, plus the pixel cap on every image size known before running (an x4 upscale of
 * an image whose size is known would pass `limits.maxPixels`: IMAGE_TOO_LARGE on that node and port). A check that
 * throws becomes a diagnostic on its node. Never rejects.
 */
export async function checkGraph(
  graph: GraphFile,
  registry: NodeRegistry,
  context: CheckContext,
  options: ValidateOptions = {},
): Promise<Diagnostic[]> {
  const diagnostics = validateGraph(graph, registry, options);
  if (hasErrors(diagnostics)) return diagnostics;
  const known: Record<string, Record<string, StaticInfo>> = {};
  for (const node of graph.nodes) {
    const definition = registry.get(node.type);
    if (!definition?.check) continue;
    const { params } = parseNodeParams(definition, node);
    if (!params) continue;
    try {
      const connected = new Set(graph.edges.filter((e) => e.to.node === node.id).map((e) => e.to.port));
      const reportStatic = (port: string, info: StaticInfo) => {
        if (Object.hasOwn(definition.outputs, port)) known[node.id] = { ...known[node.id], [port]: info };
      };
      const found = await definition.check(params, { ...context, connected, reportStatic });
      for (const d of found) diagnostics.push(d.node ? d : { ...d, node: node.id });
    } catch (cause) {
      diagnostics.push({
        severity: 'error',
        code: isCoserError(cause) ? cause.code : 'INTERNAL',
        node: node.id,
        ...(isCoserError(cause) && cause.location.port ? { port: cause.location.port } : {}),
        ...(isCoserError(cause) && cause.location.param ? { param: cause.location.param } : {}),
        message: `${isCoserError(cause) ? '' : 'check failed: '}${cause instanceof Error ? cause.message : String(cause)}`,
      });
    }
  }
  diagnostics.push(...pixelCapDiagnostics(inferStaticInfo(graph, registry, known), context.limits.maxPixels));
  return diagnostics;
}

/**
 * IMAGE_TOO_LARGE for every output whose size, known before running (`inferStaticInfo`), passes the pixel cap:
 * what checkGraph reports, and what the editor shows on a node as soon as an upload's size makes it so.
 */
export function pixelCapDiagnostics(
  info: Readonly<Record<string, Readonly<Record<string, StaticInfo>>>>,
  maxPixels: number,
): Diagnostic[] {
  const found: Diagnostic[] = [];
  for (const [nodeId, ports] of Object.entries(info)) {
    for (const [portName, facts] of Object.entries(ports)) {
      if (facts.width === undefined || facts.height === undefined) continue;
      const pixels = facts.width * facts.height;
      if (pixels > maxPixels) {
        found.push({
          severity: 'error',
          code: 'IMAGE_TOO_LARGE',
          node: nodeId,
          port: portName,
          message: `${nodeId}.${portName} would be ${facts.width}x${facts.height} (${pixels} pixels), over the cap of ${maxPixels} pixels`,
        });
      }
    }
  }
  return found;
}

/**
 * Static facts (image sizes, channels, shapes) of every node's outputs, propagated in topological order through
 * each node's optional `inferStatic`, for the editor to show sizes before running. `known` adds facts learned
 * elsewhere (by node id and output port: a file's header), taking precedence over what a node infers. Nodes with
 * invalid params, or whose `inferStatic` throws, contribute only their known facts. Never throws.
 */
export function inferStaticInfo(
  graph: GraphFile,
  registry: NodeRegistry,
  known: Readonly<Record<string, Readonly<Record<string, StaticInfo>>>> = {},
): Record<string, Record<string, StaticInfo>> {
  const result = new Map<string, Record<string, StaticInfo>>();
  try {
    const byId = new Map(graph.nodes.map((n) => [n.id, n]));
    const incoming = new Map<string, GraphFile['edges']>();
    for (const edge of graph.edges) {
      const list = incoming.get(edge.to.node);
      if (list) list.push(edge);
      else incoming.set(edge.to.node, [edge]);
    }
    const { order } = topologicalSort(
      graph.nodes.map((n) => n.id),
      graph.edges,
    );
    for (const id of order) {
      const node = byId.get(id)!;
      const definition = registry.get(node.type);
      const inputs: Record<string, StaticInfo> = {};
      for (const edge of incoming.get(id) ?? []) {
        const info = result.get(edge.from.node)?.[edge.from.port];
        if (info) inputs[edge.to.port] = info;
      }
      const inferred = definition ? inferNodeStatic(definition, node, inputs) : {};
      const facts: Record<string, StaticInfo> = { ...inferred };
      for (const [portName, info] of Object.entries(known[id] ?? {}))
        facts[portName] = { ...inferred[portName], ...info };
      if (Object.keys(facts).length > 0) result.set(id, facts);
    }
  } catch {
    // Never throws: return what was inferred so far.
  }
  return Object.fromEntries(result);
}

/** One node's `inferStatic` on its inputs' facts: only its own output ports; nothing when its params are invalid. */
function inferNodeStatic(
  definition: AnyNodeDefinition,
  node: GraphFile['nodes'][number],
  upstream: Record<string, StaticInfo>,
): Record<string, StaticInfo> {
  const clean: Record<string, StaticInfo> = {};
  if (!definition.inferStatic) return clean;
  const { params } = parseNodeParams(definition, node);
  if (!params) return clean;
  const inputs = Object.fromEntries(
    Object.entries(upstream).filter(([port]) => Object.hasOwn(definition.inputs, port)),
  );
  try {
    const outputs = definition.inferStatic(inputs, params) as Record<string, StaticInfo | undefined>;
    for (const [portName, info] of Object.entries(outputs)) {
      if (info && Object.hasOwn(definition.outputs, portName)) clean[portName] = info;
    }
  } catch {
    // A node's size inference is a convenience for the editor; its failure must not hide the rest.
  }
  return clean;
}
