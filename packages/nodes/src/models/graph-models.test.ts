import { describe, expect, it } from 'vitest';
import { createDefaultRegistry } from '../index';
import { graphModelRefs } from './graph-models';

describe('graphModelRefs', () => {
  it('finds every model param through the catalog, with the default where a node leaves it out', () => {
    const graph = {
      nodes: [
        { id: 'load', type: 'io.loadImage', typeVersion: 1, params: { path: 'a.png' } },
        { id: 'up', type: 'upscale.upscaleImage', typeVersion: 1, params: { model: 'esrgan-slim-x2' } },
        { id: 'pick', type: 'upscale.loadModel', typeVersion: 1, params: {} },
        { id: 'empty', type: 'upscale.upscaleImage', typeVersion: 1, params: { model: '' } },
        { id: 'unknown', type: 'no.such', typeVersion: 1, params: { model: 'x' } },
      ],
    };
    expect(graphModelRefs(graph, createDefaultRegistry().catalog())).toEqual([
      { node: 'up', param: 'model', model: 'esrgan-slim-x2' },
      { node: 'pick', param: 'model', model: 'esrgan-medium-x4' },
    ]);
  });
});
