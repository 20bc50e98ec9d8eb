import type { Diagnostic, RunEvent } from '@coser/runtime';
import { formatDiagnostic } from '../errors';
import type { RunItem } from '../run-inputs';
import { formatOutcomes } from './outputs-summary';
import type { ItemOutcome, ReporterStreams, RunReporter } from './types';

/** Progress of a long node is printed at most this often (in quarters of its total), to keep logs readable. */
const PROGRESS_STEPS = 4;

/**
 * Plain lines for logs and pipes (no terminal control codes): one line per finished node, a few per long node,
 * one per run; progress on stderr, the final report on stdout.
 */
export function createPlainReporter(streams: ReporterStreams, cwd: string): RunReporter {
  const err = (text: string) => streams.err.write(`${text}\n`);
  const lastStep = new Map<string, number>();
  let batch = false;

  return {
    beginItem(item: RunItem, index: number, total: number) {
      batch = total > 1;
      lastStep.clear();
      if (batch) err(`[${index + 1}/${total}] ${item.label}`);
    },
    onEvent(event: RunEvent) {
      const line = describeEvent(event, lastStep);
      if (line !== undefined) err(batch ? `  ${line}` : line);
    },
    onDiagnostics(_item: RunItem, diagnostics: readonly Diagnostic[]) {
      for (const diagnostic of diagnostics) err(formatDiagnostic(diagnostic));
    },
    endItem() {},
    finish(outcomes: readonly ItemOutcome[]) {
      for (const line of formatOutcomes(outcomes, cwd)) streams.out.write(`${line}\n`);
    },
  };
}

/** One line for an event, or undefined for events not worth a line of their own. */
export function describeEvent(event: RunEvent, lastStep: Map<string, number>): string | undefined {
  switch (event.type) {
    case 'node:progress': {
      if (event.max <= 0) return undefined;
      const step = Math.floor((event.value / event.max) * PROGRESS_STEPS);
      if (step <= (lastStep.get(event.node) ?? 0)) return undefined;
      lastStep.set(event.node, step);
      return `[${event.node}] ${event.value}/${event.max}${event.label ? ` ${event.label}` : ''}`;
    }
    case 'node:done':
      return `[${event.node}] done in ${Math.round(event.ms)} ms${event.cached ? ' (cached)' : ''}`;
    case 'node:error':
      return `[${event.node}] error ${event.code}: ${event.message}${event.port ? ` (port ${event.port})` : ''}`;
    case 'run:done':
      return `run done in ${Math.round(event.ms)} ms`;
    case 'run:error':
      return `run failed: ${event.code}: ${event.message}${event.node ? ` (node ${event.node})` : ''}`;
    case 'run:cancelled':
      return `run cancelled${event.node ? ` during ${event.node}` : ''}`;
    default:
      return undefined;
  }
}
