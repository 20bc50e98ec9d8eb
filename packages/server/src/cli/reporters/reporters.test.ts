import { createImage, type RunEvent } from '@coser/runtime';
import { describe, expect, it } from 'vitest';
import { createJsonReporter, jsonSafeEvent } from './json-reporter';
import { formatMetric, formatMetricsTable, formatOutcomes } from './outputs-summary';
import { describeEvent } from './plain-reporter';
import type { ItemOutcome } from './types';

function collect() {
  let text = '';
  const write = (chunk: string) => {
    text += chunk;
    return true;
  };
  const stream = { write } as unknown as NodeJS.WritableStream;
  return { stream, text: () => text };
}

describe('json reporter', () => {
  it('replaces preview pixels by the image size', () => {
    const image = createImage(32, 16, 3);
    const event: RunEvent = { type: 'node:preview', runId: 'r', node: 'up', image };
    const line = JSON.stringify(jsonSafeEvent(event));
    expect(JSON.parse(line)).toEqual({
      type: 'node:preview',
      runId: 'r',
      node: 'up',
      image: { width: 32, height: 16, channels: 3 },
    });
    expect(line.length).toBeLessThan(200);
  });

  it('prints one JSON object per line: item, events, summary', () => {
    const out = collect();
    const reporter = createJsonReporter({ out: out.stream, err: out.stream });
    const item = { label: 'a.png', inputs: { image: '/x/a.png' } };
    reporter.beginItem(item, 0, 1);
    reporter.onEvent({ type: 'node:done', runId: 'r', node: 'load', ms: 3, cached: false });
    reporter.finish([{ item, status: 'error', outputs: {}, error: { code: 'IMAGE_CORRUPT', message: 'bad' } }]);
    const lines = out
      .text()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['cli:item', 'node:done', 'cli:summary']);
    expect(lines[2]).toMatchObject({ ok: false, total: 1, failed: 1, runs: [{ error: { code: 'IMAGE_CORRUPT' } }] });
  });
});

describe('plain lines', () => {
  it('describes finished nodes and throttles progress to quarters', () => {
    const steps = new Map<string, number>();
    expect(describeEvent({ type: 'node:done', runId: 'r', node: 'up', ms: 12.4, cached: true }, steps)).toBe(
      '[up] done in 12 ms (cached)',
    );
    const progress = (value: number) =>
      describeEvent({ type: 'node:progress', runId: 'r', node: 'up', value, max: 16, label: 'tiles' }, steps);
    const printed = Array.from({ length: 16 }, (_, i) => progress(i + 1)).filter((l) => l !== undefined);
    expect(printed).toEqual(['[up] 4/16 tiles', '[up] 8/16 tiles', '[up] 12/16 tiles', '[up] 16/16 tiles']);
  });
});

describe('end-of-run report', () => {
  it('formats metrics with sensible precision', () => {
    expect(formatMetric(26.93456)).toBe('26.93');
    expect(formatMetric(0.812345)).toBe('0.8123');
    expect(formatMetric(Number.POSITIVE_INFINITY)).toBe('inf');
    expect(formatMetric(undefined)).toBe('-');
  });

  it('aligns a metrics table with one column per metric', () => {
    const table = formatMetricsTable([
      { label: 'a.png', values: { psnr: 26.9, ssim: 0.8 } },
      { label: 'longer.png', values: { psnr: 31.25, ssim: 0.91 } },
    ]);
    expect(table).toEqual(['             psnr    ssim', 'a.png       26.90  0.8000', 'longer.png  31.25  0.9100']);
  });

  it('lists files relative to the current folder, metrics per input, and failures', () => {
    const outcome = (label: string, psnr: number): ItemOutcome => ({
      item: { label, inputs: {} },
      status: 'done',
      outputs: {
        save: { file: { kind: 'file', path: `/work/out/${label}`, format: 'png' } },
        compare: { metrics: { kind: 'metrics', values: { psnr } } },
      },
    });
    const failed: ItemOutcome = {
      item: { label: 'bad.png', inputs: {} },
      status: 'error',
      outputs: {},
      error: { code: 'IMAGE_CORRUPT', message: 'truncated', node: 'load' },
    };
    const lines = formatOutcomes([outcome('a.png', 20), failed, outcome('b.png', 30)], '/work');
    expect(lines).toContain('    save.file  out/a.png (png)');
    expect(lines).toContain('metrics:');
    expect(lines.some((l) => /^\s+b\.png\s+30$/.test(l))).toBe(true);
    expect(lines).toContain('failed: 1 of 3');
    expect(lines).toContain('  bad.png: IMAGE_CORRUPT: truncated (node load)');
  });
});
