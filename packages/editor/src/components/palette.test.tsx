// @vitest-environment happy-dom
import { createDefaultRegistry } from '@coser/nodes';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runMetrics } from '../run/run-state';
import { Palette } from './palette';
import { ResultsPanel } from './results-panel';

const catalog = createDefaultRegistry().catalog();

afterEach(cleanup);

describe('Palette', () => {
  it('searches, moves the highlight with the arrows and picks with Enter', () => {
    const onPick = vi.fn();
    render(<Palette catalog={catalog} onPick={onPick} />);
    const search = screen.getByLabelText('Search nodes');
    fireEvent.change(search, { target: { value: 'image' } });
    const options = screen.getAllByRole('option');
    expect(options.length).toBeGreaterThan(1);
    fireEvent.keyDown(search, { key: 'ArrowDown' });
    fireEvent.keyDown(search, { key: 'Enter' });
    expect(onPick).toHaveBeenCalledWith(expect.objectContaining({ type: options[1]!.getAttribute('data-node-type') }));
  });

  it('shows only nodes a dangling image wire can attach to, and closes on Escape', () => {
    const onClose = vi.fn();
    render(<Palette catalog={catalog} onPick={() => {}} filter={{ kind: 'image', side: 'input' }} onClose={onClose} />);
    const types = screen.getAllByRole('option').map((o) => o.getAttribute('data-node-type'));
    expect(types).toContain('io.saveImage');
    expect(types).not.toContain('io.loadImage');
    fireEvent.keyDown(screen.getByLabelText('Search nodes'), { key: 'Escape' });
    expect(onClose).toHaveBeenCalled();
  });
});

describe('ResultsPanel', () => {
  it('shows status, Compare metrics, and a before/after slider with a download link', () => {
    const outputs = {
      compare: { metrics: { kind: 'metrics' as const, values: { psnr: 27.4912, ssim: 0.81 } } },
      save: { file: { kind: 'file' as const, path: 'out/astro-x4.png', format: 'png', width: 256, height: 256 } },
    };
    expect(runMetrics(outputs)).toHaveLength(1);
    render(
      <ResultsPanel
        beforeUrl="blob:before"
        run={{
          status: 'done',
          runId: 'r',
          ms: 1234,
          nodes: {},
          outputs,
          files: [{ name: 'astro-x4.png', url: 'blob:after', bytes: 2048, mime: 'image/png' }],
        }}
      />,
    );
    expect(screen.getByTestId('run-status').textContent).toBe('Done in 1.23 s');
    expect(screen.getByTestId('metrics').textContent).toContain('27.4912');
    expect(screen.getByTestId('result-size').textContent).toMatch(/^256×256/);
    const slider = screen.getByLabelText('before/after position') as HTMLInputElement;
    fireEvent.change(slider, { target: { value: '20' } });
    expect((screen.getByAltText(/input \(before\)|before/) as HTMLImageElement).style.clipPath).toBe(
      'inset(0 80% 0 0)',
    );
    expect(screen.getByText('Download').getAttribute('download')).toBe('astro-x4.png');
  });
});
