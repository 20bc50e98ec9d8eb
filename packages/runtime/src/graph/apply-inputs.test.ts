import { describe, expect, it } from 'vitest';
import { createFixtureNodes, sampleGraph } from '../testing/fixtures';
import { applyGraphInputs, parseParamValue } from './apply-inputs';

const { registry } = createFixtureNodes();

describe('applyGraphInputs', () => {
  it('sets named inputs and node.param values on a copy', () => {
    const graph = sampleGraph();
    const before = JSON.stringify(graph);
    const { graph: out, diagnostics } = applyGraphInputs(graph, {
      inputs: { first: 7 },
      set: { 'sum.offset': 4, 'img.size': 8 },
    });
    expect(diagnostics).toEqual([]);
    expect(out.nodes.find((n) => n.id === 'a')?.params).toEqual({ value: 7 });
    expect(out.nodes.find((n) => n.id === 'sum')?.params).toEqual({ offset: 4 });
    expect(out.nodes.find((n) => n.id === 'img')?.params).toEqual({ size: 8 });
    expect(JSON.stringify(graph)).toBe(before);
  });

  it('resolves node ids containing dots by the longest match', () => {
    const graph = sampleGraph();
    graph.nodes.push({ id: 'stage.1', type: 'test.constant', typeVersion: 1, params: {} });
    const { graph: out } = applyGraphInputs(graph, { set: { 'stage.1.value': 9 } });
    expect(out.nodes.at(-1)?.params).toEqual({ value: 9 });
  });

  it('reports unknown input names and nodes with the known names', () => {
    const { graph: out, diagnostics } = applyGraphInputs(sampleGraph(), {
      inputs: { imagee: 'x.png' },
      set: { 'ghost.value': 1, novalue: 2 },
    });
    expect(diagnostics).toEqual([
      expect.objectContaining({
        code: 'UNKNOWN_GRAPH_INPUT',
        message: expect.stringMatching(/no input "imagee".*first, size/),
      }),
      expect.objectContaining({ code: 'UNKNOWN_GRAPH_INPUT', message: expect.stringMatching(/ghost\.value/) }),
      expect.objectContaining({ code: 'USAGE' }),
    ]);
    expect(out.nodes.find((n) => n.id === 'a')?.params).toEqual({ value: 2 });
  });

  it('refuses params the node type lacks when given the registry', () => {
    const { diagnostics } = applyGraphInputs(sampleGraph(), { set: { 'sum.ofset': 1 }, registry });
    expect(diagnostics[0]).toMatchObject({ code: 'UNKNOWN_PORT', node: 'sum', param: 'ofset' });
    expect(diagnostics[0]?.message).toMatch(/its params: offset/);
  });

  it('refuses prototype keys in names and values, leaving Object.prototype alone', () => {
    const { diagnostics } = applyGraphInputs(sampleGraph(), {
      set: { 'a.__proto__': { polluted: true }, 'a.value': JSON.parse('{"__proto__":{"polluted":true}}') },
    });
    expect(diagnostics.map((d) => d.code)).toEqual(['FORBIDDEN_KEY', 'FORBIDDEN_KEY']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('parseParamValue', () => {
  it('parses JSON and falls back to the text', () => {
    expect(parseParamValue('256')).toBe(256);
    expect(parseParamValue('true')).toBe(true);
    expect(parseParamValue('[1,2]')).toEqual([1, 2]);
    expect(parseParamValue('"x"')).toBe('x');
    expect(parseParamValue('photo.png')).toBe('photo.png');
    expect(parseParamValue('')).toBe('');
    expect(parseParamValue('1e999')).toBe(Number.POSITIVE_INFINITY);
  });
});
