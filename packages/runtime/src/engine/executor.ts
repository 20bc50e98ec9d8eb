import type { InferenceBackend } from '../backend/inference-backend';
import { CoserError, hasErrors } from '../errors';
import { canonicalJson, sha256Hex } from '../graph/canonical';
import { parseNodeParams } from '../graph/params';
import type { GraphFile, GraphNode } from '../graph/schema';
import { sha256HexSync } from '../graph/sha256-sync';
import { validateGraph } from '../graph/validate';
import type { ImageBuffer } from '../image/image-buffer';
import type { RunEvent, RunOutputs } from './events';
import type { Host } from './host';
import { cancelledError, isCancellation, type RunError, toRunError } from './map-error';
import {
  type AnyNodeDefinition,
  DEFAULT_LIMITS,
  type ExecuteContext,
  type PortMap,
  type RunInfo,
  type RuntimeLimits,
} from './node-definition';
import type { OutputCache } from './output-cache';
import { planExecution } from './planner';
import type { NodeRegistry } from './registry';
import { summarizeValue } from './summarize';
import { yieldToEventLoop } from './yield-to-event-loop';

/** Everything a run needs from its environment (CLI, server worker, editor worker). */
export interface ExecutionEnv {
  readonly registry: NodeRegistry;
  readonly backend: InferenceBackend;
  readonly host: Host;
  /** Missing fields fall back to `DEFAULT_LIMITS`. */
  readonly limits?: Partial<RuntimeLimits>;
  /** Reuses node outputs across runs of this environment (see `createOutputCache`). */
  readonly cache?: OutputCache;
}

export interface ExecuteOptions {
  /** Defaults to a random UUID. */
  readonly runId?: string;
  /** Aborting cancels the run between nodes and, through `ctx.signal`/`ctx.throwIfCancelled`, inside them. */
  readonly signal?: AbortSignal;
  /** Receives every event of the run, in order; a listener that throws does not affect the run. */
  readonly onEvent?: (event: RunEvent) => void;
  /** Minimum time between two `node:progress` events of one node (the last step always gets through). Default 100 ms. */
  readonly progressIntervalMs?: number;
  /** Passed to validation. Default 5000. */
  readonly maxNodes?: number;
}

export interface RunResult {
  status: 'done' | 'error' | 'cancelled';
  runId: string;
  /** Summaries of the output nodes' values (what `run:done` carried); empty unless done. */
  outputs: RunOutputs;
  /** Every node's outputs by port, for callers that need the values themselves (tests, the editor's viewer). */
  values: ReadonlyMap<string, Record<string, unknown>>;
  error?: RunError;
  ms: number;
}

/**
 * Runs a graph: validates it (an invalid graph ends with `run:error` carrying the first diagnostic's code), then
 * runs each node in dependency order, reusing cached outputs where nothing upstream changed. Reports through
 * `onEvent` and resolves with the result; never rejects.
 *
 * @example
 * const result = await executeGraph(graph, { registry, backend, host }, { signal, onEvent: (e) => socket.emit('run', e) });
 * if (result.status === 'error') console.error(result.error?.code, result.error?.message);
 */
export async function executeGraph(
  graph: GraphFile,
  env: ExecutionEnv,
  options: ExecuteOptions = {},
): Promise<RunResult> {
  const started = performance.now();
  const runId = options.runId ?? globalThis.crypto.randomUUID();
  const values = new Map<string, Record<string, unknown>>();
  const emit = (event: RunEvent) => {
    try {
      options.onEvent?.(event);
    } catch {
      // A broken listener (a closed socket) must not turn a good run into a failed one.
    }
  };
  const finish = (status: RunResult['status'], outputs: RunOutputs, error?: RunError): RunResult => ({
    status,
    runId,
    outputs,
    values,
    ...(error ? { error } : {}),
    ms: performance.now() - started,
  });
  const signal = options.signal ?? new AbortController().signal;

  const diagnostics = validateGraph(graph, env.registry, options.maxNodes ? { maxNodes: options.maxNodes } : {});
  if (hasErrors(diagnostics)) {
    const first = diagnostics.find((d) => d.severity === 'error')!;
    const error: RunError = {
      code: first.code,
      message: first.message,
      ...(first.node ? { node: first.node } : {}),
      ...(first.port ? { port: first.port } : {}),
    };
    emit({
      type: 'run:error',
      runId,
      code: error.code,
      message: error.message,
      ...(error.node ? { node: error.node } : {}),
    });
    return finish('error', {}, error);
  }

  let current: string | undefined;
  try {
    const order = planExecution(graph);
    const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
    const incoming = incomingEdges(graph);
    const run: RunInfo = { runId, graph, graphHash: await sha256Hex(canonicalJson(graph)) };
    const limits: RuntimeLimits = { ...DEFAULT_LIMITS, ...env.limits };
    const keys = new Map<string, string | undefined>();
    emit({ type: 'run:started', runId, nodes: order });

    for (const id of order) {
      current = id;
      if (signal.aborted) throw cancelledError(id);
      const node = nodes.get(id)!;
      const definition = env.registry.get(node.type)!;
      const params = parseParams(definition, node);
      const inputs: Record<string, unknown> = {};
      for (const edge of incoming.get(id) ?? []) inputs[edge.toPort] = values.get(edge.fromNode)?.[edge.fromPort];
      const key = env.cache ? cacheKey(definition, params, incoming.get(id) ?? [], keys) : undefined;
      keys.set(id, key);

      emit({ type: 'node:started', runId, node: id });
      const nodeStarted = performance.now();
      const hit = key ? env.cache?.get(key) : undefined;
      let outputs: Record<string, unknown>;
      if (hit) outputs = { ...hit };
      else {
        await yieldToEventLoop();
        if (signal.aborted) throw cancelledError(id);
        const ctx = createContext(id, runId, signal, env, limits, run, emit, options.progressIntervalMs ?? 100);
        outputs = checkOutputs(
          definition,
          id,
          await definition.execute(inputs as Parameters<AnyNodeDefinition['execute']>[0], params, ctx),
        );
        if (signal.aborted) throw cancelledError(id);
        if (key) env.cache?.set(key, outputs);
      }
      values.set(id, outputs);
      emit({ type: 'node:done', runId, node: id, ms: performance.now() - nodeStarted, cached: hit !== undefined });
    }

    current = undefined;
    const outputs: RunOutputs = {};
    for (const id of order) {
      const definition = env.registry.get(nodes.get(id)!.type)!;
      if (!definition.output) continue;
      const summary: RunOutputs[string] = {};
      for (const [portName, spec] of Object.entries(definition.outputs as PortMap)) {
        summary[portName] = summarizeValue(spec.kind, values.get(id)?.[portName]);
      }
      outputs[id] = summary;
    }
    const result = finish('done', outputs);
    emit({ type: 'run:done', runId, ms: result.ms, outputs });
    return result;
  } catch (cause) {
    if (isCancellation(cause, signal)) {
      emit({ type: 'run:cancelled', runId, ...(current ? { node: current } : {}) });
      return finish(
        'cancelled',
        {},
        { code: 'CANCELLED', message: 'the run was cancelled', ...(current ? { node: current } : {}) },
      );
    }
    const error = toRunError(cause, current);
    if (error.node) {
      emit({
        type: 'node:error',
        runId,
        node: error.node,
        code: error.code,
        message: error.message,
        ...(error.port ? { port: error.port } : {}),
      });
    }
    emit({
      type: 'run:error',
      runId,
      code: error.code,
      message: error.message,
      ...(error.node ? { node: error.node } : {}),
    });
    return finish('error', {}, error);
  }
}

interface IncomingEdge {
  toPort: string;
  fromNode: string;
  fromPort: string;
}

function incomingEdges(graph: GraphFile): Map<string, IncomingEdge[]> {
  const incoming = new Map<string, IncomingEdge[]>();
  for (const edge of graph.edges) {
    const entry = { toPort: edge.to.port, fromNode: edge.from.node, fromPort: edge.from.port };
    const list = incoming.get(edge.to.node);
    if (list) list.push(entry);
    else incoming.set(edge.to.node, [entry]);
  }
  for (const list of incoming.values()) list.sort((a, b) => (a.toPort < b.toPort ? -1 : a.toPort > b.toPort ? 1 : 0));
  return incoming;
}

function parseParams(definition: AnyNodeDefinition, node: GraphNode): Record<string, unknown> {
  const { params, diagnostics } = parseNodeParams(definition, node);
  if (params) return params;
  // Validation passed moments ago, so this only happens if params changed underneath; report it the same way.
  const first = diagnostics.find((d) => d.severity === 'error');
  throw new CoserError(first?.code ?? 'PARAM_INVALID', first?.message ?? 'invalid params', {
    node: node.id,
    ...(first?.param ? { param: first.param } : {}),
  });
}

/**
 * The cache key of a node: its type, version, canonical params and the keys of the nodes feeding it (by port).
 * Volatile nodes, output nodes and everything downstream of them get no key: they always run.
 */
function cacheKey(
  definition: AnyNodeDefinition,
  params: Record<string, unknown>,
  incoming: readonly IncomingEdge[],
  keys: ReadonlyMap<string, string | undefined>,
): string | undefined {
  if (definition.volatile || definition.output) return undefined;
  const upstream: Record<string, string> = {};
  for (const edge of incoming) {
    const key = keys.get(edge.fromNode);
    if (key === undefined) return undefined;
    upstream[edge.toPort] = `${key}:${edge.fromPort}`;
  }
  return sha256HexSync(canonicalJson({ type: definition.type, typeVersion: definition.typeVersion, params, upstream }));
}

function checkOutputs(definition: AnyNodeDefinition, id: string, result: unknown): Record<string, unknown> {
  if (result === null || typeof result !== 'object') {
    throw new Error(
      `node "${id}" (${definition.type}) returned ${result === null ? 'null' : typeof result}, not its outputs`,
    );
  }
  const outputs = result as Record<string, unknown>;
  for (const portName of Object.keys(definition.outputs)) {
    if (outputs[portName] === undefined) {
      throw new Error(`node "${id}" (${definition.type}) returned no value for its output "${portName}"`);
    }
  }
  return outputs;
}

function createContext(
  node: string,
  runId: string,
  signal: AbortSignal,
  env: ExecutionEnv,
  limits: RuntimeLimits,
  run: RunInfo,
  emit: (event: RunEvent) => void,
  progressIntervalMs: number,
): ExecuteContext {
  let lastProgress = Number.NEGATIVE_INFINITY;
  return {
    node,
    signal,
    backend: env.backend,
    host: env.host,
    limits,
    run,
    progress(value: number, max: number, label?: string) {
      const now = performance.now();
      if (value < max && now - lastProgress < progressIntervalMs) return;
      lastProgress = now;
      emit({ type: 'node:progress', runId, node, value, max, ...(label !== undefined ? { label } : {}) });
    },
    preview(image: ImageBuffer) {
      emit({ type: 'node:preview', runId, node, image });
    },
    throwIfCancelled() {
      if (signal.aborted) throw cancelledError(node);
    },
  };
}
