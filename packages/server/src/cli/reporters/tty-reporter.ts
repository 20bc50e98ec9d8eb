import type { Diagnostic, RunEvent } from '@coser/runtime';
import { MultiBar, type SingleBar } from 'cli-progress';
import { formatDiagnostic } from '../errors';
import type { RunItem } from '../run-inputs';
import { formatOutcomes } from './outputs-summary';
import type { ItemOutcome, ReporterStreams, RunReporter } from './types';

/**
 * Terminal progress: a cli-progress multibar with one bar per node of the run (tiles or sampler steps move the
 * bar of a long node; a short node jumps to full with its time). Bars are drawn on stderr; the report on stdout.
 */
export function createTtyReporter(streams: ReporterStreams, cwd: string): RunReporter {
  let multibar: MultiBar | undefined;
  let bars = new Map<string, SingleBar>();
  let prefix = '';
  let width = 8;

  const stopBars = () => {
    multibar?.stop();
    multibar = undefined;
    bars = new Map();
  };
  const barFor = (node: string): SingleBar | undefined => {
    if (!multibar) return undefined;
    let bar = bars.get(node);
    if (!bar) {
      bar = multibar.create(1, 0, { node: node.padEnd(width), status: '' });
      bars.set(node, bar);
    }
    return bar;
  };

  return {
    beginItem(item: RunItem, index: number, total: number) {
      prefix = total > 1 ? `[${index + 1}/${total}] ${item.label}` : '';
    },
    onEvent(event: RunEvent) {
      switch (event.type) {
        case 'run:started':
          stopBars();
          width = Math.max(8, ...event.nodes.map((n) => n.length));
          if (prefix) streams.err.write(`${prefix}\n`);
          multibar = new MultiBar({
            stream: streams.err,
            format: '{node} {bar} {percentage}% {status}',
            barCompleteChar: '#',
            barIncompleteChar: '.',
            barsize: 24,
            hideCursor: true,
            clearOnComplete: false,
            autopadding: true,
          });
          for (const node of event.nodes) barFor(node);
          break;
        case 'node:started':
          barFor(event.node)?.update(0, { status: 'running' });
          break;
        case 'node:progress': {
          const bar = barFor(event.node);
          if (bar && event.max > 0) {
            bar.setTotal(event.max);
            bar.update(event.value, { status: event.label ?? `${event.value}/${event.max}` });
          }
          break;
        }
        case 'node:done': {
          const bar = barFor(event.node);
          if (bar) {
            bar.setTotal(1);
            bar.update(1, { status: event.cached ? 'cached' : `${Math.round(event.ms)} ms` });
          }
          break;
        }
        case 'node:error':
          barFor(event.node)?.update({ status: `error ${event.code}` });
          break;
        case 'run:done':
        case 'run:error':
        case 'run:cancelled':
          stopBars();
          if (event.type === 'run:error') {
            streams.err.write(
              `run failed: ${event.code}: ${event.message}${event.node ? ` (node ${event.node})` : ''}\n`,
            );
          } else if (event.type === 'run:cancelled') {
            streams.err.write('run cancelled\n');
          }
          break;
        default:
          break;
      }
    },
    onDiagnostics(_item: RunItem, diagnostics: readonly Diagnostic[]) {
      for (const diagnostic of diagnostics) streams.err.write(`${formatDiagnostic(diagnostic)}\n`);
    },
    endItem() {
      stopBars();
    },
    finish(outcomes: readonly ItemOutcome[]) {
      stopBars();
      for (const line of formatOutcomes(outcomes, cwd)) streams.out.write(`${line}\n`);
    },
  };
}
