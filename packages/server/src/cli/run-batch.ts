import {
  applyGraphInputs,
  checkGraph,
  type Diagnostic,
  executeGraph,
  type GraphFile,
  hasErrors,
  type RunEvent,
} from '@coser/runtime';
import type { LocalEnvironment } from '../environment';
import type { ItemOutcome, RunReporter } from './reporters/types';
import type { RunItem } from './run-inputs';

export interface BatchOptions {
  readonly graph: GraphFile;
  readonly items: readonly RunItem[];
  /** `--set` values ('node.param' -> value), applied to every run. */
  readonly sets: Readonly<Record<string, unknown>>;
  readonly env: LocalEnvironment;
  readonly reporter: RunReporter;
  /** Aborting cancels the run in progress and skips the rest (they are reported as cancelled). */
  readonly signal: AbortSignal;
}

/**
 * Runs the graph once per item, one after the other (they share the environment's model sessions and cache).
 * A failing item never stops the batch: its error is recorded and the next item runs. Never throws for a failed
 * run; the caller turns the outcomes into the exit code.
 */
export async function runBatch(options: BatchOptions): Promise<ItemOutcome[]> {
  const { reporter, signal } = options;
  const outcomes: ItemOutcome[] = [];
  for (const [index, item] of options.items.entries()) {
    if (signal.aborted) {
      outcomes.push({ item, status: 'cancelled', outputs: {} });
      continue;
    }
    reporter.beginItem(item, index, options.items.length);
    const outcome = await runItem(item, options);
    reporter.endItem(outcome);
    outcomes.push(outcome);
  }
  return outcomes;
}

async function runItem(item: RunItem, options: BatchOptions): Promise<ItemOutcome> {
  const { env, reporter, signal } = options;
  const applied = applyGraphInputs(options.graph, { inputs: item.inputs, set: options.sets, registry: env.registry });
  const diagnostics: Diagnostic[] = [...applied.diagnostics];
  if (!hasErrors(diagnostics)) {
    diagnostics.push(...(await checkGraph(applied.graph, env.registry, { host: env.host, limits: env.limits })));
  }
  reporter.onDiagnostics(item, diagnostics);
  const firstError = diagnostics.find((d) => d.severity === 'error');
  if (firstError) {
    return {
      item,
      status: 'error',
      outputs: {},
      error: {
        code: firstError.code,
        message: firstError.message,
        ...(firstError.node ? { node: firstError.node } : {}),
      },
      diagnostics,
    };
  }

  // The run's own error event is the most precise account of a failure (code, message, node): keep it.
  let failure: { code: string; message: string; node?: string } | undefined;
  const onEvent = (event: RunEvent) => {
    if (event.type === 'run:error') {
      failure = { code: event.code, message: event.message, ...(event.node ? { node: event.node } : {}) };
    }
    reporter.onEvent(event);
  };
  const result = await executeGraph(applied.graph, env, { signal, onEvent });
  return {
    item,
    status: result.status,
    runId: result.runId,
    ms: result.ms,
    outputs: result.outputs,
    ...(result.status === 'error' ? { error: failure ?? { code: 'INTERNAL', message: 'the run failed' } } : {}),
  };
}

/**
 * Output params that would give every run of a batch the same file name (no `{name}` in them): their outputs
 * would replace each other. Returns `node.param` for each, to warn about before running.
 */
export function fixedOutputNames(graph: GraphFile): string[] {
  const found: string[] = [];
  for (const node of graph.nodes) {
    const filename = node.params['filename'];
    if (typeof filename === 'string' && !filename.includes('{name}')) found.push(`${node.id}.filename`);
  }
  return found;
}
