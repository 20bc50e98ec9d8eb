import { describe, expect, it } from 'vitest';
import { sampleGraph } from '../testing/fixtures';
import { loadGraph } from './load-graph';

const valid = () => JSON.stringify(sampleGraph());

describe('loadGraph', () => {
  it('loads a valid graph and applies schema defaults', () => {
    const { graph, diagnostics } = loadGraph(
      JSON.stringify({ format: 'coser-graph', version: 1, nodes: [{ id: 'a', type: 't', typeVersion: 1 }] }),
    );
    expect(diagnostics).toEqual([]);
    expect(graph?.name).toBe('Untitled');
    expect(graph?.edges).toEqual([]);
    expect(graph?.nodes[0]?.params).toEqual({});
  });

  it('accepts bytes and parsed values without modifying the value', () => {
    expect(loadGraph(new TextEncoder().encode(valid())).graph?.nodes).toHaveLength(7);
    expect(loadGraph(`\ufeff${valid()}`).graph?.nodes).toHaveLength(7);
    const value = sampleGraph();
    const before = JSON.stringify(value);
    const { graph } = loadGraph(value);
    expect(graph?.nodes).toHaveLength(7);
    expect(graph).not.toBe(value);
    expect(JSON.stringify(value)).toBe(before);
  });

  it('refuses text that is not JSON, truncated or not UTF-8', () => {
    expect(loadGraph('hello').diagnostics[0]?.code).toBe('GRAPH_NOT_JSON');
    expect(loadGraph(valid().slice(0, 50)).diagnostics[0]?.code).toBe('GRAPH_NOT_JSON');
    expect(loadGraph('').diagnostics[0]?.code).toBe('GRAPH_NOT_JSON');
    expect(loadGraph(new Uint8Array([0xff, 0xfe, 0x7b])).diagnostics[0]?.code).toBe('GRAPH_NOT_JSON');
  });

  it('refuses files over 10 MB before parsing', () => {
    const big = `{"format":"coser-graph","version":1,"nodes":[],"description":"${'x'.repeat(10 * 1024 * 1024)}"}`;
    const result = loadGraph(big);
    expect(result.graph).toBeUndefined();
    expect(result.diagnostics[0]?.code).toBe('GRAPH_TOO_LARGE');
    expect(result.diagnostics[0]?.message).toMatch(/10\.0 MB/);
    // Multi-byte characters count by their UTF-8 size.
    expect(loadGraph(`"${'é'.repeat(6 * 1024 * 1024)}"`).diagnostics[0]?.code).toBe('GRAPH_TOO_LARGE');
  });

  it('refuses 10,000-deep nesting with a diagnostic, not a stack overflow', () => {
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    expect(loadGraph(deep).diagnostics[0]?.code).toBe('GRAPH_INVALID');
    expect(loadGraph(deep).diagnostics[0]?.message).toMatch(/nested/);
    const inParams = valid().replace(
      '"params":{"value":2}',
      `"params":{"value":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
    );
    expect(loadGraph(inParams).diagnostics[0]?.code).toBe('GRAPH_INVALID');
    // The same as a value built in code.
    let nested: unknown = 1;
    for (let i = 0; i < 10_000; i++) nested = [nested];
    expect(loadGraph({ ...sampleGraph(), description: nested }).diagnostics[0]?.code).toBe('GRAPH_INVALID');
    // Brackets inside strings do not count.
    const strings = valid().replace('"name":"Sample"', `"name":"${'['.repeat(150)}"`);
    expect(loadGraph(strings).graph?.name).toHaveLength(150);
  });

  it('refuses prototype keys anywhere and leaves Object.prototype alone', () => {
    const cases = [
      valid().replace('"params":{"value":2}', '"params":{"__proto__":{"polluted":true}}'),
      valid().replace('"id":"a"', '"id":"__proto__"'),
      valid().replace('"id":"b"', '"id":"constructor"'),
      valid().replace('{"node":"a","port":"value"}', '{"node":"prototype","port":"value"}'),
      valid().replace('"inputs":{', '"inputs":{"__proto__":{"node":"a","param":"value"},'),
      valid().replace('"inputs":{', '"inputs":{"x":{"node":"a","param":"constructor"},'),
      '{"__proto__":{"polluted":true},"format":"coser-graph","version":1,"nodes":[]}',
    ];
    for (const text of cases) {
      const result = loadGraph(text);
      expect(result.graph, text.slice(0, 80)).toBeUndefined();
      expect(result.diagnostics[0]?.code).toBe('FORBIDDEN_KEY');
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
  });

  it('checks the format marker and version', () => {
    expect(loadGraph('[]').diagnostics[0]?.code).toBe('GRAPH_FORMAT');
    expect(loadGraph('null').diagnostics[0]?.code).toBe('GRAPH_FORMAT');
    expect(loadGraph('{"version":1,"nodes":[]}').diagnostics[0]?.code).toBe('GRAPH_FORMAT');
    expect(loadGraph('{"format":"comfy","version":1,"nodes":[]}').diagnostics[0]?.code).toBe('GRAPH_FORMAT');
    expect(loadGraph('{"format":"coser-graph","nodes":[]}').diagnostics[0]?.code).toBe('GRAPH_FORMAT');
    expect(loadGraph('{"format":"coser-graph","version":0,"nodes":[]}').diagnostics[0]?.code).toBe('GRAPH_FORMAT');
    const future = loadGraph('{"format":"coser-graph","version":2,"nodes":[]}');
    expect(future.diagnostics[0]?.code).toBe('GRAPH_VERSION_FUTURE');
    expect(future.diagnostics[0]?.message).toMatch(/newer/);
  });

  it('reports schema errors with their path and node', () => {
    const text = valid().replace('"typeVersion":1,"params":{"value":3}', '"typeVersion":"one","params":{"value":3}');
    const { graph, diagnostics } = loadGraph(text);
    expect(graph).toBeUndefined();
    expect(diagnostics[0]).toMatchObject({ code: 'GRAPH_INVALID', node: 'b' });
    expect(diagnostics[0]?.message).toMatch(/^nodes\[1\]\.typeVersion:/);
    const badId = loadGraph(valid().replace('"id":"a"', '"id":"a b"'));
    expect(badId.diagnostics[0]?.message).toMatch(/nodes\[0\]\.id/);
    const extra = loadGraph(valid().replace('"name":"Sample"', '"name":"Sample","bogus":1'));
    expect(extra.diagnostics[0]?.code).toBe('GRAPH_INVALID');
  });

  it('caps the number of reported schema issues', () => {
    const nodes = Array.from({ length: 100 }, () => ({ id: 1, type: 2, typeVersion: 'x' }));
    const { diagnostics } = loadGraph({ format: 'coser-graph', version: 1, nodes });
    expect(diagnostics.length).toBeLessThanOrEqual(21);
    expect(diagnostics.at(-1)?.message).toMatch(/more problems/);
  });

  it('refuses values JSON cannot hold (cycles, functions, class instances)', () => {
    const cyclic: Record<string, unknown> = { ...sampleGraph() };
    cyclic['editor'] = { self: cyclic };
    expect(loadGraph(cyclic).diagnostics[0]?.code).toBe('GRAPH_INVALID');
    expect(loadGraph({ ...sampleGraph(), name: () => 1 }).diagnostics[0]?.code).toBe('GRAPH_INVALID');
    expect(loadGraph({ ...sampleGraph(), description: new Date() }).diagnostics[0]?.code).toBe('GRAPH_INVALID');
    // A shared (non-cyclic) object is fine.
    const shared = { value: 2 };
    const graph = sampleGraph();
    graph.nodes[0]!.params = shared;
    graph.nodes[1]!.params = shared;
    expect(loadGraph(graph).graph).toBeDefined();
  });
});
