import { createDefaultRegistry } from '@coser/nodes';
import type { GraphFile } from '@coser/runtime';
import { applyGraphInputs } from '@coser/runtime';
import { describe, expect, it } from 'vitest';
import { indexCatalog } from './compat';
import { freeInputName, imagePathParam, withImageInputs, withOriginalImageNames } from './graph-inputs';

const registry = createDefaultRegistry();
const catalog = indexCatalog(registry.catalog());
const loadImage = catalog.get('io.loadImage');
const resize = catalog.get('image.resize');

describe('graph inputs for Load Image nodes', () => {
  it('finds the param a node reads its image from', () => {
    expect(imagePathParam(loadImage)).toBe('path');
    expect(imagePathParam(resize)).toBeUndefined();
    expect(imagePathParam(undefined)).toBeUndefined();
  });

  it('names the first image input `image` and later ones image2, image3 (never reusing a name)', () => {
    expect(freeInputName({})).toBe('image');
    expect(freeInputName({ image: { node: 'a', param: 'path' } })).toBe('image2');
    expect(freeInputName({ image: { node: 'a', param: 'path' }, image2: { node: 'b', param: 'path' } })).toBe('image3');

    const one = withImageInputs({}, [{ id: 'loadImage', entry: loadImage }]);
    expect(one).toEqual({ image: { node: 'loadImage', param: 'path' } });
    const two = withImageInputs(one, [
      { id: 'resize', entry: resize },
      { id: 'loadImage2', entry: loadImage },
    ]);
    expect(two).toEqual({
      image: { node: 'loadImage', param: 'path' },
      image2: { node: 'loadImage2', param: 'path' },
    });
    // Already an input (e.g. under a preset's own name): left alone.
    const preset = { photo: { node: 'load', param: 'path' } };
    expect(withImageInputs(preset, [{ id: 'load', entry: loadImage }])).toEqual(preset);
    // A name taken by some other input is skipped.
    expect(withImageInputs({ image: { node: 'model', param: 'model' } }, [{ id: 'l', entry: loadImage }])).toEqual({
      image: { node: 'model', param: 'model' },
      image2: { node: 'l', param: 'path' },
    });
  });

  it('saves dropped images under their own file names, and the result takes --input as the CLI gives it', () => {
    const graph: GraphFile = {
      format: 'coser-graph',
      version: 1,
      name: 'two photos',
      description: '',
      nodes: [
        { id: 'loadImage', type: 'io.loadImage', typeVersion: 1, params: { path: 'uploads/photo.png' } },
        { id: 'loadImage2', type: 'io.loadImage', typeVersion: 1, params: { path: '0f1e/ref.png' } },
        { id: 'loadImage3', type: 'io.loadImage', typeVersion: 1, params: { path: 'samples/astronaut-lr.png' } },
      ],
      edges: [],
      inputs: withImageInputs({}, [
        { id: 'loadImage', entry: loadImage },
        { id: 'loadImage2', entry: loadImage },
      ]),
    };
    const names = new Map([
      ['uploads/photo.png', 'photo.png'],
      ['0f1e/ref.png', 'ref.png'],
    ]);
    const saved = withOriginalImageNames(graph, names);
    expect(saved.nodes.map((n) => n.params['path'])).toEqual(['photo.png', 'ref.png', 'samples/astronaut-lr.png']);
    expect(graph.nodes[0]!.params['path']).toBe('uploads/photo.png');
    expect(withOriginalImageNames(graph, new Map())).toBe(graph);

    const applied = applyGraphInputs(saved, { inputs: { image: 'other.png', image2: 'ref2.png' }, registry });
    expect(applied.diagnostics).toEqual([]);
    expect(applied.graph.nodes.map((n) => n.params['path'])).toEqual([
      'other.png',
      'ref2.png',
      'samples/astronaut-lr.png',
    ]);
  });
});
