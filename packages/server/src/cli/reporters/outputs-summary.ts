import path from 'node:path';
import type { OutputSummary } from '@coser/runtime';
import { formatDiagnostic } from '../errors';
import type { ItemOutcome } from './types';

/**
 * The end-of-run report for terminals: every output (files with their paths, values), the metrics of Compare
 * nodes as one table (a row per input, a column per metric) and the failures. Returns lines without newlines.
 */
export function formatOutcomes(outcomes: readonly ItemOutcome[], cwd: string): string[] {
  const lines: string[] = [];
  const batch = outcomes.length > 1;
  const metricRows: { label: string; values: Record<string, number> }[] = [];
  const metricNodes = new Set<string>();

  const outputLines: string[] = [];
  for (const outcome of outcomes) {
    const entries: string[] = [];
    for (const [node, ports] of Object.entries(outcome.outputs)) {
      for (const [portName, summary] of Object.entries(ports)) {
        if (summary.kind === 'metrics') {
          metricNodes.add(node);
          metricRows.push({ label: batch ? outcome.item.label : node, values: summary.values });
          continue;
        }
        entries.push(`${node}.${portName}  ${describeOutput(summary, cwd)}`);
        if (summary.kind === 'file' || summary.kind === 'image')
          for (const note of summary.notes ?? []) entries.push(`  note: ${note}`);
      }
    }
    if (entries.length === 0) continue;
    if (batch) outputLines.push(`  ${outcome.item.label}`, ...entries.map((e) => `    ${e}`));
    else outputLines.push(...entries.map((e) => `  ${e}`));
  }
  if (outputLines.length > 0) lines.push('outputs:', ...outputLines);

  if (metricRows.length > 0) {
    // In a batch with several Compare nodes, a row must also say which node it came from.
    if (batch && metricNodes.size > 1) {
      metricRows.length = 0;
      for (const outcome of outcomes) {
        for (const [node, ports] of Object.entries(outcome.outputs)) {
          for (const summary of Object.values(ports)) {
            if (summary.kind === 'metrics')
              metricRows.push({ label: `${outcome.item.label} ${node}`, values: summary.values });
          }
        }
      }
    }
    lines.push('metrics:', ...formatMetricsTable(metricRows).map((l) => `  ${l}`));
  }

  const failed = outcomes.filter((o) => o.status !== 'done');
  if (failed.length > 0) {
    lines.push(`failed: ${failed.length} of ${outcomes.length}`);
    for (const outcome of failed) {
      const reason = outcome.error
        ? `${outcome.error.code}: ${outcome.error.message}${outcome.error.node ? ` (node ${outcome.error.node})` : ''}`
        : outcome.status;
      lines.push(`  ${outcome.item.label}: ${reason}`);
      for (const diagnostic of outcome.diagnostics ?? []) lines.push(`  ${formatDiagnostic(diagnostic)}`);
    }
  }
  return lines;
}

/** A metrics table: first column the row label, then one column per metric name (in first-seen order). */
export function formatMetricsTable(rows: readonly { label: string; values: Record<string, number> }[]): string[] {
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row.values)) if (!columns.includes(key)) columns.push(key);
  const table = [
    ['', ...columns],
    ...rows.map((row) => [row.label, ...columns.map((c) => formatMetric(row.values[c]))]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  return table.map((r) =>
    r
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

export function formatMetric(value: number | undefined): string {
  if (value === undefined) return '-';
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 10 ? value.toFixed(2) : value.toFixed(4);
}

function describeOutput(summary: OutputSummary, cwd: string): string {
  switch (summary.kind) {
    case 'file': {
      const size = summary.width && summary.height ? `${summary.width}x${summary.height}` : '';
      const details = [summary.format, size].filter(Boolean).join(', ');
      return `${displayPath(summary.path, cwd)}${details ? ` (${details})` : ''}`;
    }
    case 'image':
      return `image ${summary.width}x${summary.height}, ${summary.channels} ch (not saved)`;
    case 'number':
      return formatMetric(summary.value);
    case 'text':
      return JSON.stringify(summary.value);
    case 'tensor':
      return `tensor [${summary.dims.join(', ')}]`;
    case 'metrics':
      return Object.entries(summary.values)
        .map(([k, v]) => `${k}=${formatMetric(v)}`)
        .join(' ');
    case 'other':
      return summary.description;
  }
}

/** Paths under the current folder are shown relative to it (what the user typed); others stay absolute. */
export function displayPath(file: string, cwd: string): string {
  if (!path.isAbsolute(file)) return file;
  const relative = path.relative(cwd, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}
