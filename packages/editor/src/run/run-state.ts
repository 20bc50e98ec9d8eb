import type { Diagnostic, ErrorCode, RunEvent, RunOutputs } from '@coser/runtime';

/**
 * A run event as the UI receives it from either client (worker or server). Previews arrive as a displayable URL
 * (the worker's float image and the server's PNG are both converted by the client), and output files as blob URLs.
 */
export type UiRunEvent =
  | Exclude<RunEvent, { type: 'node:preview' }>
  | { type: 'node:preview'; runId: string; node: string; url: string; width: number; height: number }
  | { type: 'run:file'; runId: string; file: OutputFile };

/** An output file of a run, held in memory (local runs) or fetched from the server, shown through a blob URL. */
export interface OutputFile {
  name: string;
  url: string;
  bytes: number;
  mime: string;
}

export type NodeStatus = 'waiting' | 'running' | 'done' | 'cached' | 'error' | 'cancelled';

export interface NodeRunState {
  status: NodeStatus;
  progress?: { value: number; max: number; label?: string };
  ms?: number;
  error?: { code: ErrorCode; message: string; port?: string };
  preview?: { url: string; width: number; height: number };
}

export type RunStatus = 'idle' | 'submitting' | 'queued' | 'running' | 'done' | 'error' | 'cancelled';

export interface RunState {
  runId?: string;
  status: RunStatus;
  /** Where the run executes: this browser or a server. */
  target?: 'local' | 'server';
  position?: number;
  nodes: Record<string, NodeRunState>;
  outputs: RunOutputs;
  files: OutputFile[];
  error?: { code: ErrorCode; message: string; node?: string };
  /** Why the target refused the run before starting it (e.g. the server's MODEL_MISSING), shown on the nodes. */
  diagnostics?: Diagnostic[];
  ms?: number;
}

export const IDLE_RUN: RunState = { status: 'idle', nodes: {}, outputs: {}, files: [] };

/** A run that was just submitted (before the first event arrives). */
export function submittedRun(target: 'local' | 'server', runId?: string): RunState {
  return { ...IDLE_RUN, status: 'submitting', target, ...(runId ? { runId } : {}) };
}

export function isActive(state: RunState): boolean {
  return state.status === 'submitting' || state.status === 'queued' || state.status === 'running';
}

/**
 * Folds one event into the run state. Events of another run are ignored (a late event of a cancelled run must not
 * paint over the next one); the first event of a submitted run adopts its id.
 */
export function reduceRun(state: RunState, event: UiRunEvent): RunState {
  if (state.runId !== undefined && event.runId !== state.runId) return state;
  if (state.runId === undefined && state.status !== 'submitting') return state;
  const base: RunState = state.runId === undefined ? { ...state, runId: event.runId } : state;
  switch (event.type) {
    case 'run:queued':
      return { ...base, status: 'queued', position: event.position };
    case 'run:started': {
      const nodes: Record<string, NodeRunState> = {};
      for (const id of event.nodes) nodes[id] = { status: 'waiting' };
      return { ...base, status: 'running', nodes };
    }
    case 'node:started':
      return patchNode(base, event.node, { status: 'running' });
    case 'node:progress':
      return patchNode(base, event.node, {
        status: 'running',
        progress: { value: event.value, max: event.max, ...(event.label ? { label: event.label } : {}) },
      });
    case 'node:preview':
      return patchNode(base, event.node, { preview: { url: event.url, width: event.width, height: event.height } });
    case 'node:done':
      return patchNode(base, event.node, {
        status: event.cached ? 'cached' : 'done',
        ms: event.ms,
        progress: undefined,
      });
    case 'node:error':
      return patchNode(base, event.node, {
        status: 'error',
        error: { code: event.code, message: event.message, ...(event.port ? { port: event.port } : {}) },
      });
    case 'run:file':
      return { ...base, files: [...base.files.filter((f) => f.name !== event.file.name), event.file] };
    case 'run:done':
      return { ...base, status: 'done', outputs: event.outputs, ms: event.ms };
    case 'run:error':
      return {
        ...base,
        status: 'error',
        error: { code: event.code, message: event.message, ...(event.node ? { node: event.node } : {}) },
      };
    case 'run:cancelled':
      return { ...settleRunning(base, 'cancelled'), status: 'cancelled' };
  }
}

function patchNode(state: RunState, node: string, patch: Partial<NodeRunState>): RunState {
  const previous = state.nodes[node] ?? { status: 'waiting' };
  const next: NodeRunState = { ...previous, ...patch };
  for (const key of Object.keys(patch) as (keyof NodeRunState)[]) {
    if (patch[key] === undefined) delete next[key];
  }
  return { ...state, nodes: { ...state.nodes, [node]: next } };
}

function settleRunning(state: RunState, status: NodeStatus): RunState {
  const nodes: Record<string, NodeRunState> = {};
  for (const [id, node] of Object.entries(state.nodes)) {
    nodes[id] = node.status === 'running' ? { ...node, status } : node;
  }
  return { ...state, nodes };
}

/** Metrics reported by output nodes (Compare): node id -> metric name -> value. */
export function runMetrics(outputs: RunOutputs): { node: string; values: Record<string, number> }[] {
  const found: { node: string; values: Record<string, number> }[] = [];
  for (const [node, ports] of Object.entries(outputs)) {
    for (const summary of Object.values(ports)) {
      if (summary.kind === 'metrics') found.push({ node, values: summary.values });
      if (summary.kind === 'number') found.push({ node, values: { value: summary.value } });
    }
  }
  return found;
}

/**
 * What the run's output images say about themselves (`notes` of image and file summaries, e.g. "made by contract
 * models ... meaningless by design"), each once.
 */
export function runNotes(outputs: RunOutputs): string[] {
  const notes = new Set<string>();
  for (const ports of Object.values(outputs)) {
    for (const summary of Object.values(ports)) {
      if (summary.kind === 'image' || summary.kind === 'file') for (const note of summary.notes ?? []) notes.add(note);
    }
  }
  return [...notes];
}
