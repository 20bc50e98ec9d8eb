import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDefaultRegistry } from '@coser/nodes';
import type { GraphFile } from '@coser/runtime';
import { loadGraph, validateGraph } from '@coser/runtime';
import { describe, expect, it } from 'vitest';
import { flowToGraph, freshNodeId, graphToFlow } from './flow-adapter';

const graphsDir = join(import.meta.dirname, '../../../../graphs');

const sample: GraphFile = {
  format: 'coser-graph',
  version: 1,
  name: 'Sample',
  description: 'three nodes',
  nodes: [
    { id: 'load', type: 'io.loadImage', typeVersion: 1, params: { path: 'a.png' }, position: { x: 0, y: 0 } },
    { id: 'resize', type: 'image.resize', typeVersion: 1, params: { scale: 2 }, title: 'Bigger' },
    { id: 'save', type: 'io.saveImage', typeVersion: 1, params: {} },
  ],
  edges: [
    { from: { node: 'load', port: 'image' }, to: { node: 'resize', port: 'image' } },
    { from: { node: 'resize', port: 'image' }, to: { node: 'save', port: 'image' } },
  ],
  inputs: { image: { node: 'load', param: 'path' } },
};

describe('flow adapter', () => {
  it('round-trips a graph without losing fields', () => {
    const flow = graphToFlow(sample);
    const back = flowToGraph(flow.nodes, flow.edges, flow.meta);
    expect(back.nodes.map((n) => [n.id, n.type, n.params, n.title])).toEqual(
      sample.nodes.map((n) => [n.id, n.type, n.params, n.title]),
    );
    expect(back.edges).toEqual(sample.edges);
    expect(back.inputs).toEqual(sample.inputs);
    expect(back.name).toBe('Sample');
    expect(back.description).toBe('three nodes');
  });

  it('lays out nodes without positions in columns by depth', () => {
    const flow = graphToFlow(sample);
    const x = Object.fromEntries(flow.nodes.map((n) => [n.id, n.position.x]));
    expect(x['load']).toBe(0);
    expect(x['resize']!).toBeGreaterThan(x['load']!);
    expect(x['save']!).toBeGreaterThan(x['resize']!);
  });

  it('never saves React Flow state (selection, measured sizes, dragging)', () => {
    const flow = graphToFlow(sample);
    const noisy = flow.nodes.map((n) => ({
      ...n,
      selected: true,
      dragging: false,
      measured: { width: 10, height: 20 },
    }));
    const back = flowToGraph(noisy, flow.edges, flow.meta);
    for (const node of back.nodes)
      expect(Object.keys(node).sort()).toEqual(
        expect.arrayContaining(['id', 'params', 'position', 'type', 'typeVersion']),
      );
    expect(JSON.stringify(back)).not.toMatch(/selected|measured|dragging|sourceHandle/);
    // The result is a valid graph file.
    expect(loadGraph(back).graph).toBeDefined();
  });

  it('drops edges and graph inputs that point at deleted nodes', () => {
    const flow = graphToFlow(sample);
    const back = flowToGraph(
      flow.nodes.filter((n) => n.id !== 'load'),
      flow.edges,
      flow.meta,
    );
    expect(back.edges).toEqual([{ from: { node: 'resize', port: 'image' }, to: { node: 'save', port: 'image' } }]);
    expect(back.inputs).toEqual({});
  });

  it('does not share param objects between canvas and file (edits cannot leak)', () => {
    const flow = graphToFlow(sample);
    flow.nodes[0]!.data.params['path'] = 'changed.png';
    expect(sample.nodes[0]!.params['path']).toBe('a.png');
  });

  it('makes fresh ids from the type name', () => {
    expect(freshNodeId('upscale.upscaleImage', new Set())).toBe('upscaleImage');
    expect(freshNodeId('upscale.upscaleImage', new Set(['upscaleImage', 'upscaleImage2']))).toBe('upscaleImage3');
  });

  it('round-trips every preset unchanged and valid', () => {
    const registry = createDefaultRegistry();
    const files = readdirSync(graphsDir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const { graph } = loadGraph(readFileSync(join(graphsDir, file), 'utf8'));
      expect(graph, file).toBeDefined();
      const flow = graphToFlow(graph!);
      const back = flowToGraph(flow.nodes, flow.edges, flow.meta);
      expect(back.edges, file).toEqual(graph!.edges);
      expect(
        back.nodes.map((n) => n.params),
        file,
      ).toEqual(graph!.nodes.map((n) => n.params));
      expect(
        validateGraph(back, registry).filter((d) => d.severity === 'error'),
        file,
      ).toEqual(validateGraph(graph!, registry).filter((d) => d.severity === 'error'));
    }
  });
});
