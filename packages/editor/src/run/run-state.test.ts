import { describe, expect, it } from 'vitest';
import { IDLE_RUN, reduceRun, runMetrics, runNotes, submittedRun, type UiRunEvent } from './run-state';

const fold = (events: UiRunEvent[], start = submittedRun('local')) => events.reduce(reduceRun, start);

describe('run state', () => {
  it('tracks per-node status, progress and timing through a run', () => {
    const state = fold([
      { type: 'run:started', runId: 'r1', nodes: ['a', 'b'] },
      { type: 'node:started', runId: 'r1', node: 'a' },
      { type: 'node:progress', runId: 'r1', node: 'a', value: 2, max: 4, label: 'tile 2/4' },
    ]);
    expect(state.runId).toBe('r1');
    expect(state.status).toBe('running');
    expect(state.nodes['a']).toMatchObject({ status: 'running', progress: { value: 2, max: 4 } });
    expect(state.nodes['b']).toEqual({ status: 'waiting' });
    const done = fold(
      [
        { type: 'node:done', runId: 'r1', node: 'a', ms: 12, cached: false },
        { type: 'node:done', runId: 'r1', node: 'b', ms: 0, cached: true },
        {
          type: 'run:done',
          runId: 'r1',
          ms: 20,
          outputs: { b: { metrics: { kind: 'metrics', values: { psnr: 30 } } } },
        },
      ],
      state,
    );
    expect(done.nodes['a']).toEqual({ status: 'done', ms: 12 });
    expect(done.nodes['b']?.status).toBe('cached');
    expect(done.status).toBe('done');
    expect(runMetrics(done.outputs)).toEqual([{ node: 'b', values: { psnr: 30 } }]);
  });

  it('ignores events of another run and of no submitted run', () => {
    const state = fold([{ type: 'run:started', runId: 'r1', nodes: ['a'] }]);
    expect(reduceRun(state, { type: 'node:started', runId: 'other', node: 'a' })).toBe(state);
    expect(reduceRun(IDLE_RUN, { type: 'run:started', runId: 'r9', nodes: [] })).toBe(IDLE_RUN);
  });

  it('marks running nodes cancelled and keeps errors', () => {
    const state = fold([
      { type: 'run:started', runId: 'r1', nodes: ['a', 'b'] },
      { type: 'node:started', runId: 'r1', node: 'a' },
      { type: 'node:error', runId: 'r1', node: 'b', code: 'IMAGE_CORRUPT', message: 'truncated' },
      { type: 'run:cancelled', runId: 'r1' },
    ]);
    expect(state.status).toBe('cancelled');
    expect(state.nodes['a']?.status).toBe('cancelled');
    expect(state.nodes['b']).toMatchObject({ status: 'error', error: { code: 'IMAGE_CORRUPT' } });
  });

  it('collects output files, replacing a re-sent one', () => {
    const file = { name: 'out.png', url: 'blob:1', bytes: 10, mime: 'image/png' };
    const state = fold([
      { type: 'run:file', runId: 'r1', file },
      { type: 'run:file', runId: 'r1', file: { ...file, url: 'blob:2' } },
    ]);
    expect(state.files).toEqual([{ ...file, url: 'blob:2' }]);
  });

  it("collects the notes of a run's images and files once each", () => {
    const note = 'made by contract models: meaningless by design';
    expect(
      runNotes({
        save: { file: { kind: 'file', path: 'a.png', notes: [note] } },
        other: { image: { kind: 'image', width: 1, height: 1, channels: 3, notes: [note, 'second'] } },
        metrics: { metrics: { kind: 'metrics', values: { psnr: 1 } } },
      }),
    ).toEqual([note, 'second']);
    expect(runNotes({})).toEqual([]);
  });
});
