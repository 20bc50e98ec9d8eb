import type { Diagnostic, ImageBuffer, RunEvent } from '@coser/runtime';
import type { RunItem } from '../run-inputs';
import type { ItemOutcome, ReporterStreams, RunReporter } from './types';

/**
 * `--json`: one JSON object per line on stdout. Every RunEvent is printed as it comes (a preview's pixels are
 * replaced by its size: NDJSON consumers want progress, not megabytes of floats), framed by CLI lines of their own
 * types: `cli:item` before each run, `cli:diagnostics` after checking, `cli:summary` at the very end.
 */
export function createJsonReporter(streams: ReporterStreams): RunReporter {
  const line = (value: unknown) => streams.out.write(`${JSON.stringify(value)}\n`);
  return {
    beginItem(item: RunItem, index: number, total: number) {
      line({ type: 'cli:item', index: index + 1, total, label: item.label, inputs: item.inputs });
    },
    onEvent(event: RunEvent) {
      line(jsonSafeEvent(event));
    },
    onDiagnostics(item: RunItem, diagnostics: readonly Diagnostic[]) {
      if (diagnostics.length > 0) line({ type: 'cli:diagnostics', label: item.label, diagnostics });
    },
    endItem() {},
    finish(outcomes: readonly ItemOutcome[]) {
      const failed = outcomes.filter((o) => o.status !== 'done').length;
      line({
        type: 'cli:summary',
        ok: failed === 0,
        total: outcomes.length,
        failed,
        runs: outcomes.map((o) => ({
          label: o.item.label,
          inputs: o.item.inputs,
          status: o.status,
          ...(o.runId ? { runId: o.runId } : {}),
          ...(o.ms !== undefined ? { ms: o.ms } : {}),
          outputs: o.outputs,
          ...(o.error ? { error: o.error } : {}),
        })),
      });
    },
  };
}

/** The event as printable data: previews summarised, everything else unchanged. */
export function jsonSafeEvent(event: RunEvent): Record<string, unknown> {
  if (event.type !== 'node:preview') return { ...event };
  const { image, ...rest } = event;
  return { ...rest, image: summariseImage(image) };
}

function summariseImage(image: ImageBuffer): { width: number; height: number; channels: number } {
  return { width: image.width, height: image.height, channels: image.channels };
}
