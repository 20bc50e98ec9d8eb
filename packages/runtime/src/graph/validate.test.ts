import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineNode } from '../engine/node-definition';
import { createRegistry } from '../engine/registry';
import { CoserError, type Diagnostic } from '../errors';
import { createFakeEnvironmentParts, createFixtureNodes, sampleGraph } from '../testing/fixtures';
import { port } from './ports';
import type { GraphFile } from './schema';
import { checkGraph, inferStaticInfo, validateGraph } from './validate';

const { registry, definitions } = createFixtureNodes();
const codes = (d: Diagnostic[]) => d.filter((x) => x.severity === 'error').map((x) => x.code);
const withChange = (change: (g: GraphFile) => void) => {
  const g = sampleGraph();
  change(g);
  return validateGraph(g, registry);
};

describe('validateGraph', () => {
  it('accepts the sample graph', () => {
    expect(validateGraph(sampleGraph(), registry)).toEqual([]);
  });

  it('refuses too many nodes before anything else', () => {
    const g = sampleGraph();
    g.nodes = Array.from({ length: 10_000 }, (_, i) => ({ id: `n${i}`, type: 'nope', typeVersion: 1, params: {} }));
    const d = validateGraph(g, registry);
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ code: 'GRAPH_TOO_LARGE' });
    expect(d[0]?.message).toMatch(/10000 nodes.*5000/);
    expect(codes(validateGraph(sampleGraph(), registry, { maxNodes: 3 }))).toEqual(['GRAPH_TOO_LARGE']);
  });

  it('reports duplicate ids and unknown node types', () => {
    const dup = withChange((g) => {
      g.nodes[1]!.id = 'a';
    });
    expect(dup.find((d) => d.code === 'DUPLICATE_ID')).toMatchObject({ node: 'a' });
    const unknown = withChange((g) => {
      g.nodes[0]!.type = 'future.magic';
    });
    expect(unknown[0]).toMatchObject({ code: 'UNKNOWN_NODE_TYPE', node: 'a' });
    expect(unknown[0]?.message).toMatch(/future\.magic.*newer version/);
  });

  it('reports unknown ports and edges to missing nodes, naming node and port', () => {
    const d = withChange((g) => {
      g.edges.push({ from: { node: 'a', port: 'nope' }, to: { node: 'out', port: 'value' } });
      g.edges.push({ from: { node: 'ghost', port: 'x' }, to: { node: 'sum', port: 'zz' } });
    });
    expect(d).toContainEqual(expect.objectContaining({ code: 'UNKNOWN_PORT', node: 'a', port: 'nope' }));
    expect(d).toContainEqual(expect.objectContaining({ code: 'UNKNOWN_PORT', node: 'ghost', port: 'x' }));
    expect(d).toContainEqual(expect.objectContaining({ code: 'UNKNOWN_PORT', node: 'sum', port: 'zz' }));
  });

  it('reports type mismatches with the reason, and two edges into one input', () => {
    const d = withChange((g) => {
      g.edges.push({ from: { node: 'img', port: 'image' }, to: { node: 'out', port: 'value' } });
    });
    const mismatch = d.find((x) => x.code === 'TYPE_MISMATCH');
    expect(mismatch).toMatchObject({ node: 'out', port: 'value' });
    expect(mismatch?.message).toMatch(/Image output cannot feed a Number input/);
    expect(d.find((x) => x.code === 'INPUT_MULTIPLE')).toMatchObject({ node: 'out', port: 'value' });
  });

  it('reports required inputs left unconnected, but not optional ones', () => {
    const d = withChange((g) => {
      g.edges = g.edges.filter((e) => e.to.node !== 'sum');
    });
    expect(d.filter((x) => x.code === 'INPUT_UNCONNECTED')).toEqual([
      expect.objectContaining({ node: 'sum', port: 'a' }),
    ]);
  });

  it('names the nodes of cycles and self-loops', () => {
    const d = withChange((g) => {
      g.edges = g.edges.filter((e) => e.to.node !== 'sum');
      g.edges.push({ from: { node: 'sum', port: 'sum' }, to: { node: 'sum', port: 'a' } });
      g.nodes.push({ id: 'x', type: 'test.add', typeVersion: 2, params: {} });
      g.nodes.push({ id: 'y', type: 'test.add', typeVersion: 2, params: {} });
      g.edges.push({ from: { node: 'x', port: 'sum' }, to: { node: 'y', port: 'a' } });
      g.edges.push({ from: { node: 'y', port: 'sum' }, to: { node: 'x', port: 'a' } });
    });
    const cycles = d.filter((x) => x.code === 'GRAPH_CYCLE').map((x) => x.message);
    expect(cycles).toHaveLength(2);
    expect(cycles).toContainEqual(expect.stringMatching(/"sum" feeds itself \(sum -> sum\)/));
    expect(cycles).toContainEqual(expect.stringMatching(/x -> y -> x|y -> x -> y/));
  });

  it('checks params with their bounds, including NaN, Infinity and 1e308', () => {
    const cases: [unknown, string, RegExp][] = [
      [12, 'PARAM_OUT_OF_RANGE', /"offset" of node "sum" must be between 0 and 8 \(got 12\)/],
      [-1, 'PARAM_OUT_OF_RANGE', /between 0 and 8/],
      [1e308, 'PARAM_OUT_OF_RANGE', /between 0 and 8 \(got 1e\+308\)/],
      [Number.NaN, 'PARAM_INVALID', /must be a finite number \(got NaN/],
      [Number.POSITIVE_INFINITY, 'PARAM_INVALID', /finite number \(got Infinity/],
      ['3', 'PARAM_INVALID', /expected number/],
      [1.5, 'PARAM_INVALID', /int/],
    ];
    for (const [value, code, message] of cases) {
      const d = withChange((g) => {
        g.nodes[2]!.params = { offset: value };
      });
      expect(d, String(value)).toHaveLength(1);
      expect(d[0]).toMatchObject({ code, node: 'sum', param: 'offset' });
      expect(d[0]?.message).toMatch(message);
    }
  });

  it('migrates old node params, refuses future typeVersions and warns about unknown params', () => {
    expect(
      withChange((g) => {
        g.nodes[2] = { ...g.nodes[2]!, typeVersion: 1, params: { bias: 20 } };
      })[0],
    ).toMatchObject({ code: 'PARAM_OUT_OF_RANGE', param: 'offset' });
    expect(
      withChange((g) => {
        g.nodes[2]!.typeVersion = 3;
      })[0],
    ).toMatchObject({ code: 'NODE_VERSION_FUTURE', node: 'sum' });
    const typo = withChange((g) => {
      g.nodes[2]!.params = { ofset: 1 };
    });
    expect(typo).toEqual([expect.objectContaining({ severity: 'warning', code: 'PARAM_INVALID', param: 'ofset' })]);
  });

  it('reports graph inputs naming a missing node or param', () => {
    const d = withChange((g) => {
      g.inputs = { lost: { node: 'ghost', param: 'value' }, typo: { node: 'a', param: 'valu' } };
    });
    expect(d).toEqual([
      expect.objectContaining({ code: 'UNKNOWN_GRAPH_INPUT', node: 'ghost' }),
      expect.objectContaining({ code: 'UNKNOWN_GRAPH_INPUT', node: 'a', param: 'valu' }),
    ]);
  });

  it('never throws, even on a graph that skipped the loader', () => {
    const broken = { nodes: [null], edges: 5 } as unknown as GraphFile;
    expect(validateGraph(broken, registry)[0]?.code).toBe('INTERNAL');
  });
});

describe('checkGraph', () => {
  const { host } = createFakeEnvironmentParts();
  const checked = defineNode({
    type: 'test.checked',
    typeVersion: 1,
    title: 'Checked',
    category: 'test',
    description: 'Has environment checks.',
    inputs: {},
    outputs: { value: port.number() },
    params: z.object({ mode: z.enum(['ok', 'missing', 'throw', 'bug']).default('ok').describe('Mode') }),
    async check(params) {
      if (params.mode === 'missing') return [{ severity: 'error', code: 'MODEL_MISSING', message: 'install it' }];
      if (params.mode === 'throw') throw new CoserError('MODEL_CORRUPT', 'bad file', { param: 'mode' });
      if (params.mode === 'bug') throw new Error('oops');
      return [];
    },
    async execute() {
      return { value: 1 };
    },
  });
  const reg = createRegistry([...definitions, checked]);
  const graphWith = (mode: string): GraphFile => ({
    ...sampleGraph(),
    nodes: [...sampleGraph().nodes, { id: 'c', type: 'test.checked', typeVersion: 1, params: { mode } }],
  });
  const context = { host, limits: { maxPixels: 100, memoryBudgetBytes: 100 } };

  it('adds node checks, naming the node, and turns throwing checks into diagnostics', async () => {
    expect(await checkGraph(graphWith('ok'), reg, context)).toEqual([]);
    expect(await checkGraph(graphWith('missing'), reg, context)).toEqual([
      expect.objectContaining({ code: 'MODEL_MISSING', node: 'c' }),
    ]);
    expect(await checkGraph(graphWith('throw'), reg, context)).toEqual([
      expect.objectContaining({ code: 'MODEL_CORRUPT', node: 'c', param: 'mode', message: 'bad file' }),
    ]);
    expect((await checkGraph(graphWith('bug'), reg, context))[0]).toMatchObject({ code: 'INTERNAL', node: 'c' });
  });

  it('refuses image sizes known before running that pass the pixel cap', async () => {
    const d = await checkGraph(sampleGraph(), reg, { ...context, limits: { maxPixels: 63, memoryBudgetBytes: 1 } });
    expect(d).toEqual([expect.objectContaining({ code: 'IMAGE_TOO_LARGE', node: 'up', port: 'image' })]);
    expect(d[0]?.message).toMatch(/8x8 \(64 pixels\), over the cap of 63/);
  });

  it('uses sizes a check learned from the environment for the sizes downstream', async () => {
    const header = defineNode({
      type: 'test.header',
      typeVersion: 1,
      title: 'Header',
      category: 'test',
      description: 'Knows its image size only from the environment.',
      inputs: {},
      outputs: { image: port.image(), count: port.number() },
      params: z.object({}),
      async check(_params, ctx) {
        ctx.reportStatic?.('image', { width: 20, height: 20 });
        ctx.reportStatic?.('nope', { width: 1 });
        return [];
      },
      async execute() {
        throw new Error('not run');
      },
    });
    const g: GraphFile = {
      ...sampleGraph(),
      nodes: [
        { id: 'h', type: 'test.header', typeVersion: 1, params: {} },
        { id: 'up', type: 'test.upscale', typeVersion: 1, params: { scale: 2 } },
      ],
      edges: [{ from: { node: 'h', port: 'image' }, to: { node: 'up', port: 'image' } }],
      inputs: {},
    };
    const withHeader = createRegistry([...definitions, header]);
    const d = await checkGraph(g, withHeader, { ...context, limits: { maxPixels: 1000, memoryBudgetBytes: 1 } });
    expect(d).toEqual([expect.objectContaining({ code: 'IMAGE_TOO_LARGE', node: 'up', port: 'image' })]);
    expect(d[0]?.message).toMatch(/40x40 \(1600 pixels\)/);
    expect(await checkGraph(g, withHeader, { ...context, limits: { maxPixels: 1600, memoryBudgetBytes: 1 } })).toEqual(
      [],
    );
  });

  it('skips node checks when the structure is invalid', async () => {
    const g = graphWith('missing');
    g.nodes[0]!.type = 'nope';
    expect(codes(await checkGraph(g, reg, context))).toEqual(['UNKNOWN_NODE_TYPE']);
  });
});

describe('inferStaticInfo', () => {
  it('propagates sizes through nodes in order', () => {
    const info = inferStaticInfo(sampleGraph(), registry);
    expect(info['img']?.['image']).toEqual({ width: 4, height: 4, channels: 3 });
    expect(info['up']?.['image']).toEqual({ width: 8, height: 8, channels: 3 });
    expect(info['a']?.['value']).toEqual({ note: '= 2' });
    expect(info['sum']).toBeUndefined();
  });

  it('merges facts known from elsewhere over what a node infers', () => {
    const info = inferStaticInfo(sampleGraph(), registry, { img: { image: { width: 10, height: 6 } } });
    expect(info['img']?.['image']).toEqual({ width: 10, height: 6, channels: 3 });
    expect(info['up']?.['image']).toEqual({ width: 20, height: 12, channels: 3 });
  });

  it('skips nodes with invalid params', () => {
    const g = sampleGraph();
    g.nodes[4]!.params = { size: 1000 };
    const info = inferStaticInfo(g, registry);
    expect(info['img']).toBeUndefined();
    expect(info['up']?.['image']).toEqual({});
  });
});
