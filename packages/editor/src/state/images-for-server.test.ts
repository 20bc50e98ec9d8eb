import type { GraphFile } from '@coser/runtime';
import { describe, expect, it } from 'vitest';
import { withImagesOnServer } from './images-for-server';

function graph(paths: string[]): GraphFile {
  return {
    format: 'coser-graph',
    version: 1,
    name: 'g',
    description: '',
    nodes: paths.map((path, i) => ({ id: `load${i}`, type: 'io.loadImage', typeVersion: 1, params: { path } })),
    edges: [],
    inputs: {},
  };
}

describe('withImagesOnServer', () => {
  it('uploads each image the server lacks once and renames it in the submitted copy only', async () => {
    const images = new Map([
      ['uploads/a.png', new Uint8Array([1])],
      ['uploads/b.png', new Uint8Array([2])],
    ]);
    const onServer = new Map<string, string>();
    const uploaded: [string, number][] = [];
    const upload = async (name: string, bytes: Uint8Array) => {
      uploaded.push([name, bytes[0]!]);
      return `srv-${uploaded.length}.png`;
    };
    const original = graph(['uploads/a.png', 'uploads/a.png', 'uploads/b.png', 'on-server.png', '']);
    const ready = await withImagesOnServer(original, images, onServer, upload);
    expect(ready.nodes.map((n) => n.params['path'])).toEqual([
      'srv-1.png',
      'srv-1.png',
      'srv-2.png',
      'on-server.png',
      '',
    ]);
    expect(uploaded).toEqual([
      ['a.png', 1],
      ['b.png', 2],
    ]);
    expect(original.nodes[0]?.params['path']).toBe('uploads/a.png');

    // A second run on the same server uploads nothing.
    const again = await withImagesOnServer(original, images, onServer, upload);
    expect(again.nodes.map((n) => n.params['path'])).toEqual(ready.nodes.map((n) => n.params['path']));
    expect(uploaded).toHaveLength(2);
  });

  it('returns the graph itself when it names no image the editor holds, and passes upload failures on', async () => {
    const untouched = graph(['server-name.png']);
    expect(await withImagesOnServer(untouched, new Map(), new Map(), async () => 'x')).toBe(untouched);
    const failing = withImagesOnServer(
      graph(['uploads/a.png']),
      new Map([['uploads/a.png', new Uint8Array(1)]]),
      new Map(),
      () => Promise.reject(new Error('IMAGE_TOO_LARGE')),
    );
    await expect(failing).rejects.toThrow('IMAGE_TOO_LARGE');
  });
});
