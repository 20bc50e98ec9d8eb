import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDefaultRegistry } from '@coser/nodes';
import { type GraphFile, inferStaticInfo } from '@coser/runtime';
import { describe, expect, it } from 'vitest';
import { readImageSize } from './image-header';
import { withUploadSizes } from './upload-sizes';

const graph: GraphFile = {
  format: 'coser-graph',
  version: 1,
  name: 'sizes',
  description: '',
  nodes: [
    { id: 'load', type: 'io.loadImage', typeVersion: 1, params: { path: 'uploads/a.png' } },
    { id: 'resize', type: 'image.resize', typeVersion: 1, params: { mode: 'scale', scale: 2 } },
    { id: 'up', type: 'upscale.upscaleImage', typeVersion: 1, params: { model: 'esrgan-medium-x4' } },
  ],
  edges: [
    { from: { node: 'load', port: 'image' }, to: { node: 'resize', port: 'image' } },
    { from: { node: 'resize', port: 'image' }, to: { node: 'up', port: 'image' } },
  ],
  inputs: {},
};

describe('output sizes from uploaded images', () => {
  it('propagates an upload size through the graph', () => {
    const registry = createDefaultRegistry();
    expect(inferStaticInfo(graph, registry)['resize']?.['image']).toBeUndefined();
    const view = withUploadSizes(registry, (id) => (id === 'uploads/a.png' ? { width: 64, height: 48 } : undefined));
    const info = inferStaticInfo(graph, view);
    expect(info['load']?.['image']).toMatchObject({ width: 64, height: 48 });
    expect(info['up']?.['image']?.channels).toBeUndefined();
    expect(info['resize']?.['image']).toMatchObject({ width: 128, height: 96 });
    expect(info['up']?.['image']).toMatchObject({ width: 512, height: 384 });
    // Unknown uploads add nothing; the real registry is unchanged.
    const none = inferStaticInfo(
      graph,
      withUploadSizes(registry, () => undefined),
    );
    expect(none['resize']?.['image']).toBeUndefined();
    expect(registry.get('io.loadImage')?.inferStatic).toBeUndefined();
  });

  it('reads sizes from PNG headers', () => {
    const png = new Uint8Array(readFileSync(join(import.meta.dirname, '../../../../graphs/samples/astronaut-lr.png')));
    expect(readImageSize(png)).toEqual({ width: 64, height: 64, channels: 3 });
    // Colour type 6 (RGBA) and 0 (gray) as the Node host decodes them: 4 and 1 channels.
    const rgba = png.slice(0, 33);
    rgba[25] = 6;
    expect(readImageSize(rgba)?.channels).toBe(4);
    rgba[25] = 0;
    expect(readImageSize(rgba)?.channels).toBe(1);
    expect(readImageSize(new Uint8Array([1, 2, 3]))).toBeUndefined();
  });
});
