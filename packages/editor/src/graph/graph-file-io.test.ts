import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { addPngTextChunks } from '@coser/nodes';
import { describe, expect, it } from 'vitest';
import { graphFileName, graphToJson, openBytes } from './graph-file-io';

const png = new Uint8Array(readFileSync(join(import.meta.dirname, '../../../../graphs/samples/astronaut-lr.png')));
const graph = {
  format: 'coser-graph',
  version: 1,
  name: 'My Graph!',
  description: '',
  nodes: [{ id: 'load', type: 'io.loadImage', typeVersion: 1, params: { path: 'a.png' } }],
  edges: [],
  inputs: {},
};
const encode = (text: string) => new TextEncoder().encode(text);

describe('opening dropped files', () => {
  it('opens a graph JSON', () => {
    const opened = openBytes(encode(JSON.stringify(graph)), 'g.json');
    expect(opened.kind).toBe('graph');
    expect(opened.kind === 'graph' && opened.graph.nodes[0]?.id).toBe('load');
  });

  it('opens the graph embedded in a PNG (iTXt coser:graph)', () => {
    const tagged = addPngTextChunks(png, { 'coser:graph': JSON.stringify(graph) });
    const opened = openBytes(tagged, 'out.png');
    expect(opened).toMatchObject({ kind: 'graph', source: 'png' });
  });

  it('treats a PNG without a graph as an image for Load Image', () => {
    expect(openBytes(png, 'photo.png')).toMatchObject({ kind: 'image', format: 'png', name: 'photo.png' });
  });

  it('explains a graph from a newer version', () => {
    const opened = openBytes(encode(JSON.stringify({ ...graph, version: 99 })), 'future.json');
    expect(opened.kind).toBe('error');
    expect(opened.kind === 'error' && opened.message).toMatch(/newer version/);
  });

  it('refuses files that are neither graphs nor images, and broken JSON, with a message', () => {
    const text = openBytes(encode('hello world'), 'notes.txt');
    expect(text.kind === 'error' && text.message).toMatch(/neither a graph/);
    const svg = openBytes(encode('<svg xmlns="http://www.w3.org/2000/svg"></svg>'), 'x.svg');
    expect(svg.kind === 'error' && svg.message).toMatch(/SVG/);
    const broken = openBytes(encode('{"format": "coser-graph", '), 'broken.json');
    expect(broken.kind === 'error' && broken.message).toMatch(/not a valid graph: GRAPH_NOT_JSON/);
    const proto = openBytes(encode('{"__proto__": {"x": 1}, "format": "coser-graph"}'), 'evil.json');
    expect(proto.kind).toBe('error');
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });

  it('saves the same JSON the CLI reads, with a kebab-case name', () => {
    const text = graphToJson(graph as never);
    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.parse(text)).toEqual(graph);
    expect(graphFileName({ name: 'My Graph!' })).toBe('my-graph.json');
    expect(graphFileName({ name: '***' })).toBe('graph.json');
  });
});
