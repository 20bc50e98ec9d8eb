import { createDefaultRegistry } from '@coser/nodes';
import { describe, expect, it } from 'vitest';
import { checkWire, indexCatalog, matchingPort, searchCatalog } from './compat';

const catalog = createDefaultRegistry().catalog();
const index = indexCatalog(catalog);

describe('wiring and palette search', () => {
  it('allows image -> image and refuses image -> model with a reason', () => {
    expect(
      checkWire(
        index,
        { nodeType: 'io.loadImage', handle: 'image' },
        { nodeType: 'io.saveImage', handle: 'image' },
        false,
      ),
    ).toEqual({ ok: true });
    const upscale = index.get('upscale.upscaleImage');
    if (upscale) {
      const refused = checkWire(
        index,
        { nodeType: 'io.loadImage', handle: 'image' },
        { nodeType: 'upscale.upscaleImage', handle: 'model' },
        false,
      );
      expect(refused.ok).toBe(false);
      expect(!refused.ok && refused.reason).toMatch(/Image output cannot feed a Model input/);
    }
    expect(
      checkWire(index, { nodeType: 'io.loadImage', handle: 'image' }, { nodeType: 'io.loadImage', handle: 'x' }, true)
        .ok,
    ).toBe(false);
    expect(
      checkWire(index, { nodeType: 'nope', handle: 'image' }, { nodeType: 'io.saveImage', handle: 'image' }, false),
    ).toEqual({
      ok: false,
      reason: 'unknown node type',
    });
  });

  it('filters the palette to nodes a dangling wire can attach to', () => {
    const takesImage = searchCatalog(catalog, '', { kind: 'image', side: 'input' });
    expect(takesImage.map((e) => e.type)).toContain('io.saveImage');
    expect(takesImage.map((e) => e.type)).not.toContain('io.loadImage');
    for (const entry of takesImage) expect(matchingPort(entry, { kind: 'image', side: 'input' })).toBeDefined();
    const givesImage = searchCatalog(catalog, '', { kind: 'image', side: 'output' });
    expect(givesImage.map((e) => e.type)).toContain('io.loadImage');
    expect(givesImage.map((e) => e.type)).not.toContain('io.saveImage');
  });

  it('lists what most graphs use first: Load/Save, Upscale, image operations, metrics; CoSeR last', () => {
    const order = searchCatalog(catalog, '').map((e) => e.type);
    expect(order.slice(0, 3)).toEqual(['io.loadImage', 'io.saveImage', 'upscale.upscaleImage']);
    const categories = searchCatalog(catalog, '').map((e) => e.category);
    const firstOf = (category: string) => categories.indexOf(category);
    expect(firstOf('upscale')).toBeLessThan(firstOf('image'));
    expect(firstOf('image')).toBeLessThan(firstOf('metrics'));
    // Every CoSeR node comes after every other node.
    expect(categories.slice(categories.indexOf('coser')).every((c) => c === 'coser')).toBe(true);
    expect(categories.filter((c) => c === 'coser').length).toBeGreaterThan(5);
  });

  it('searches titles first, then types and descriptions', () => {
    const results = searchCatalog(catalog, 'save');
    expect(results[0]?.type).toBe('io.saveImage');
    expect(searchCatalog(catalog, 'zzzz-no-such-node')).toEqual([]);
  });
});
