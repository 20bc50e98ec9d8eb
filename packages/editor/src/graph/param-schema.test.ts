import { createDefaultRegistry } from '@coser/nodes';
import { describe, expect, it } from 'vitest';
import {
  coerceNumber,
  defaultParams,
  humanize,
  outOfBounds,
  widgetApplies,
  widgetFor,
  widgetsForParams,
} from './param-schema';

describe('param widgets from JSON Schema', () => {
  it('maps bounded numbers to sliders, unbounded ones to number fields', () => {
    expect(widgetFor('overlap', { type: 'integer', minimum: 0, maximum: 128, default: 16 })).toMatchObject({
      kind: 'slider',
      min: 0,
      max: 128,
      step: 1,
      integer: true,
      defaultValue: 16,
    });
    expect(widgetFor('seed', { type: 'integer', minimum: 0 })).toMatchObject({ kind: 'number', min: 0 });
    expect(widgetFor('strength', { type: 'number', minimum: 0, maximum: 1 })).toMatchObject({
      kind: 'slider',
      step: 0.01,
    });
    // A huge integer range would make a useless slider.
    expect(widgetFor('seed', { type: 'integer', minimum: 0, maximum: 2 ** 32 })).toMatchObject({ kind: 'number' });
  });

  it('maps enums, booleans, strings and hints', () => {
    expect(widgetFor('format', { type: 'string', enum: ['png', 'jpeg'] })).toMatchObject({
      kind: 'select',
      options: ['png', 'jpeg'],
    });
    expect(widgetFor('flip', { type: 'boolean' }).kind).toBe('checkbox');
    expect(widgetFor('name', { type: 'string', maxLength: 100 }).kind).toBe('text');
    expect(widgetFor('prompt', { type: 'string', maxLength: 2000 }).kind).toBe('textarea');
    expect(widgetFor('model', { type: 'string', widget: 'model', task: 'super-resolution' })).toMatchObject({
      kind: 'model',
      task: 'super-resolution',
    });
    expect(widgetFor('path', { type: 'string', widget: 'image-path' }).kind).toBe('image-path');
  });

  it("maps number | 'auto' unions to a choice-or-number widget", () => {
    const spec = widgetFor('tileSize', {
      anyOf: [
        { const: 'auto', type: 'string' },
        { type: 'integer', minimum: 64, maximum: 2048 },
      ],
      default: 'auto',
    });
    expect(spec).toMatchObject({ kind: 'choice-or-number', options: ['auto'], min: 64, max: 2048, integer: true });
  });

  it('gives every param of every real node a widget other than raw JSON', () => {
    for (const entry of createDefaultRegistry().catalog()) {
      for (const spec of widgetsForParams(entry.params)) {
        expect(spec.kind, `${entry.type}.${spec.key}`).not.toBe('json');
        expect(spec.label.length).toBeGreaterThan(0);
      }
    }
  });

  it('fills defaults, rounds number edits and keeps out-of-bounds ones with their bounds', () => {
    expect(defaultParams({ properties: { a: { default: 3 }, b: { type: 'string' } } })).toEqual({ a: 3 });
    const spec = widgetFor('n', { type: 'integer', minimum: 1, maximum: 10 });
    expect(coerceNumber(spec, 3.6, 1)).toBe(4);
    // Not clamped silently: the value stays, and the field says what the bounds are.
    expect(coerceNumber(spec, 50, 1)).toBe(50);
    expect(outOfBounds(spec, 50)).toBe('50 is outside 1 – 10');
    expect(outOfBounds(spec, 10)).toBeUndefined();
    expect(outOfBounds(widgetFor('seed', { type: 'integer', minimum: 0 }), -1)).toBe('-1 is below the minimum 0');
    expect(coerceNumber(spec, Number.NaN, 7)).toBe(7);
    expect(humanize('tileSize')).toBe('Tile size');
  });

  it("shows Resize's fields only in the mode that uses them (appliesWhen), from the real catalog", () => {
    const resize = createDefaultRegistry()
      .catalog()
      .find((e) => e.type === 'image.resize')!;
    const widgets = widgetsForParams(resize.params);
    const defaults = defaultParams(resize.params);
    const shown = (params: Record<string, unknown>) =>
      widgets.filter((w) => widgetApplies(w, params, defaults)).map((w) => w.key);
    expect(shown({})).toEqual(['mode', 'scale', 'filter', 'antialias']);
    expect(shown({ mode: 'size' })).toEqual(['mode', 'width', 'height', 'filter', 'antialias']);
    expect(widgetFor('set', { type: 'string', widget: 'model-set' }).kind).toBe('model-set');
  });
});
