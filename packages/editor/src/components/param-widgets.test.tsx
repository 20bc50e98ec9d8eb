// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { widgetFor } from '../graph/param-schema';
import type { InstallState } from '../run/server-models';
import { ParamField, type WidgetServices } from './param-widgets';

const services: WidgetServices = {
  models: [{ name: 'esrgan-slim-x4' }, { name: 'esrgan-medium-x4', sha256: 'ab12' }],
  uploadImage: vi.fn(async (file: File) => `uploads/${file.name}`),
};

afterEach(cleanup);

describe('ParamField', () => {
  it('renders a slider and a number field for a bounded number; a typed value outside the bounds is kept and shown with them', () => {
    const onChange = vi.fn();
    const spec = widgetFor('overlap', { type: 'integer', minimum: 0, maximum: 128, default: 16 });
    render(<ParamField spec={spec} value={16} onChange={onChange} services={services} />);
    const slider = screen.getByLabelText('Overlap slider') as HTMLInputElement;
    expect(slider.type).toBe('range');
    fireEvent.change(slider, { target: { value: '40' } });
    expect(onChange).toHaveBeenLastCalledWith(40);
    const field = screen.getByLabelText('Overlap') as HTMLInputElement;
    fireEvent.change(field, { target: { value: '500' } });
    fireEvent.blur(field);
    expect(onChange).toHaveBeenLastCalledWith(500);
    cleanup();
    // A value outside the bounds (typed, or from a graph file) is shown as it is, with the bounds, never clamped.
    const { container } = render(<ParamField spec={spec} value={500} onChange={onChange} services={services} />);
    expect((screen.getByLabelText('Overlap') as HTMLInputElement).value).toBe('500');
    expect(screen.getByLabelText('Overlap').className).toContain('invalid');
    expect(container.querySelector('.param-message')?.textContent).toBe('500 is outside 0 – 128');
    expect((screen.getByLabelText('Overlap slider') as HTMLInputElement).value).toBe('128');
  });

  it('renders a select for an enum and a checkbox for a boolean', () => {
    const onChange = vi.fn();
    render(
      <ParamField
        spec={widgetFor('format', { type: 'string', enum: ['png', 'jpeg', 'webp'] })}
        value="png"
        onChange={onChange}
        services={services}
      />,
    );
    fireEvent.change(screen.getByLabelText('Format'), { target: { value: 'webp' } });
    expect(onChange).toHaveBeenLastCalledWith('webp');
    cleanup();
    render(
      <ParamField
        spec={widgetFor('flip', { type: 'boolean' })}
        value={false}
        onChange={onChange}
        services={services}
      />,
    );
    fireEvent.click(screen.getByLabelText('Flip'));
    expect(onChange).toHaveBeenLastCalledWith(true);
  });

  it('lists models from the server and keeps an unlisted current value visible', () => {
    const onChange = vi.fn();
    render(
      <ParamField
        spec={widgetFor('model', { type: 'string', widget: 'model' })}
        value="my-model"
        onChange={onChange}
        services={services}
      />,
    );
    const select = screen.getByLabelText('Model') as HTMLSelectElement;
    expect([...select.options].map((o) => o.value)).toEqual(['my-model', 'esrgan-slim-x4', 'esrgan-medium-x4']);
    expect(select.options[0]?.textContent).toMatch(/not listed/);
    expect(select.options[1]?.textContent).toBe('esrgan-slim-x4 (not installed)');
    expect(select.options[2]?.textContent).toBe('esrgan-medium-x4');
    fireEvent.change(select, { target: { value: 'esrgan-medium-x4' } });
    expect(onChange).toHaveBeenLastCalledWith('esrgan-medium-x4');
  });

  it('says when the model list was refused for the token, instead of "not installed"', () => {
    render(
      <ParamField
        spec={widgetFor('model', { type: 'string', widget: 'model' })}
        value="esrgan-slim-x4"
        onChange={() => {}}
        services={{ ...services, modelsProblem: 'not authorised: open the URL `coser serve` printed' }}
      />,
    );
    expect(screen.getByTestId('models-problem').textContent).toMatch(/^not authorised/);
    const select = screen.getByLabelText('Model') as HTMLSelectElement;
    expect([...select.options].map((o) => o.textContent)).toEqual(['esrgan-slim-x4', 'esrgan-medium-x4']);
  });

  it('offers to install a catalogue model the server lacks, and shows the install as it runs', () => {
    const installModel = vi.fn();
    const model = {
      name: 'esrgan-thick-x4',
      title: 'ESRGAN thick x4',
      description: '',
      scale: 4,
      licence: 'MIT',
      downloadMB: 110,
      default: false,
      inCatalogue: true,
      installed: false,
    };
    const withStatus = (install?: InstallState): WidgetServices => ({
      ...services,
      installModel,
      modelStatus: (name) => (name === model.name ? { model, ...(install ? { install } : {}) } : undefined),
    });
    const spec = widgetFor('model', { type: 'string', widget: 'model' });
    render(<ParamField spec={spec} value="esrgan-thick-x4" onChange={() => {}} services={withStatus()} />);
    expect(screen.getByTestId('model-install').textContent).toMatch(/not installed on the server \(~110 MB download\)/);
    fireEvent.click(screen.getByTestId('install-model'));
    expect(installModel).toHaveBeenCalledWith('esrgan-thick-x4');
    cleanup();
    const running: InstallState = {
      name: model.name,
      state: 'running',
      startedAt: '2025-01-01T00:00:00Z',
      progress: { step: 'convert', index: 2, count: 3 },
    };
    render(<ParamField spec={spec} value="esrgan-thick-x4" onChange={() => {}} services={withStatus(running)} />);
    expect(screen.getByTestId('model-install').textContent).toBe('installing: step 2/3, converting to ONNX');
    expect(screen.queryByTestId('install-model')).toBeNull();
  });

  it('offers to open a model-set folder on this device and says where sets come from', () => {
    const openModelSet = vi.fn();
    const spec = widgetFor('set', { type: 'string', widget: 'model-set' });
    render(
      <ParamField spec={spec} value="." onChange={() => {}} services={{ ...services, openModelSet, modelSets: [] }} />,
    );
    expect(screen.getByTestId('open-model-set')).toBeTruthy();
    expect(screen.getByTestId('model-set-hint').textContent).toMatch(/docs\/coser\.md/);
    cleanup();
    render(
      <ParamField
        spec={spec}
        value="."
        onChange={() => {}}
        services={{ ...services, openModelSet, modelSets: ['coser-contract'] }}
      />,
    );
    expect(screen.queryByTestId('model-set-hint')).toBeNull();
  });

  it('uploads a dropped image and sets the path to the upload id', async () => {
    const onChange = vi.fn();
    render(
      <ParamField
        spec={widgetFor('path', { type: 'string', widget: 'image-path' })}
        value=""
        onChange={onChange}
        services={services}
      />,
    );
    const file = new File([new Uint8Array([1, 2, 3])], 'photo.png', { type: 'image/png' });
    fireEvent.drop(screen.getByTestId('image-drop'), { dataTransfer: { files: [file] } });
    await vi.waitFor(() => expect(onChange).toHaveBeenCalledWith('uploads/photo.png'));
  });

  it('switches a number-or-auto param between its choice and a number', () => {
    const onChange = vi.fn();
    const spec = widgetFor('tileSize', {
      anyOf: [
        { type: 'string', const: 'auto' },
        { type: 'integer', minimum: 64, maximum: 2048 },
      ],
      default: 'auto',
    });
    render(<ParamField spec={spec} value="auto" onChange={onChange} services={services} />);
    fireEvent.change(screen.getByLabelText('Tile size mode'), { target: { value: '__number' } });
    expect(onChange).toHaveBeenLastCalledWith(64);
  });

  it('shows the diagnostic of its param', () => {
    render(
      <ParamField
        spec={widgetFor('path', { type: 'string' })}
        value=""
        onChange={() => {}}
        services={services}
        error="path is empty"
      />,
    );
    expect(screen.getByText('path is empty')).toBeTruthy();
  });
});
