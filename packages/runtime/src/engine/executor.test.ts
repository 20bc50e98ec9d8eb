import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../graph/canonical';
import type { GraphFile } from '../graph/schema';
import { createFakeEnvironmentParts, createFixtureNodes, sampleGraph } from '../testing/fixtures';
import type { RunEvent } from './events';
import { type ExecutionEnv, executeGraph } from './executor';
import { defineNode } from './node-definition';
import { createOutputCache } from './output-cache';
import { createRegistry } from './registry';

function setup(withCache = false) {
  const fixtures = createFixtureNodes();
  const env: ExecutionEnv = {
    registry: fixtures.registry,
    ...createFakeEnvironmentParts(),
    ...(withCache ? { cache: createOutputCache() } : {}),
  };
  return { ...fixtures, env };
}

async function run(graph: GraphFile, env: ExecutionEnv, signal?: AbortSignal) {
  const events: RunEvent[] = [];
  const result = await executeGraph(graph, env, {
    runId: 'r1',
    onEvent: (e) => events.push(e),
    ...(signal ? { signal } : {}),
  });
  return { result, events, types: events.map((e) => e.type) };
}

describe('executeGraph', () => {
  it('runs nodes in order and reports events and output summaries', async () => {
    const { env } = setup();
    const { result, events, types } = await run(sampleGraph(), env);
    expect(result.status).toBe('done');
    expect(result.runId).toBe('r1');
    expect(result.values.get('sum')).toEqual({ sum: 6 });
    expect(result.outputs).toEqual({
      out: { value: { kind: 'number', value: 6 } },
      save: { image: { kind: 'image', width: 8, height: 8, channels: 3 } },
    });
    expect(types[0]).toBe('run:started');
    expect(types.at(-1)).toBe('run:done');
    expect(events[0]).toMatchObject({ nodes: ['a', 'b', 'sum', 'out', 'img', 'up', 'save'] });
    expect(types.filter((t) => t === 'node:done')).toHaveLength(7);
    expect(events.find((e) => e.type === 'node:preview')).toMatchObject({ node: 'up' });
    // Progress is throttled: the first and the last of three quick steps get through.
    const progress = events.filter((e) => e.type === 'node:progress');
    expect(progress.map((e) => (e.type === 'node:progress' ? e.value : 0))).toEqual([1, 3]);
    expect(events.find((e) => e.type === 'run:done')).toMatchObject({ outputs: result.outputs });
  });

  it('gives nodes the run info with the graph hash and merged limits', async () => {
    const { constant } = createFixtureNodes();
    let seen: { hash: string; maxPixels: number; budget: number } | undefined;
    const probe = defineNode({
      ...constant,
      type: 'test.probe',
      async execute(_inputs, _params, ctx) {
        seen = { hash: ctx.run.graphHash, maxPixels: ctx.limits.maxPixels, budget: ctx.limits.memoryBudgetBytes };
        return { value: 1 };
      },
    });
    const graph: GraphFile = {
      ...sampleGraph(),
      nodes: [{ id: 'p', type: 'test.probe', typeVersion: 1, params: {} }],
      edges: [],
      inputs: {},
    };
    const env = { registry: createRegistry([probe]), ...createFakeEnvironmentParts(), limits: { maxPixels: 99 } };
    await executeGraph(graph, env);
    expect(seen).toEqual({ hash: await sha256Hex(canonicalJson(graph)), maxPixels: 99, budget: 2 * 1024 ** 3 });
  });

  it('refuses an invalid graph with the first diagnostic, running nothing', async () => {
    const { env, calls } = setup();
    const graph = sampleGraph();
    graph.nodes[2]!.params = { offset: 99 };
    const { result, events } = await run(graph, env);
    expect(result.status).toBe('error');
    expect(result.error).toMatchObject({ code: 'PARAM_OUT_OF_RANGE', node: 'sum' });
    expect(events).toEqual([expect.objectContaining({ type: 'run:error', code: 'PARAM_OUT_OF_RANGE', node: 'sum' })]);
    expect(calls).toEqual({});
  });

  it('maps node failures to codes: CoserError, out of memory, anything else INTERNAL', async () => {
    const { env } = setup();
    for (const [mode, code] of [
      ['coser', 'IMAGE_CORRUPT'],
      ['oom', 'OUT_OF_MEMORY'],
      ['bug', 'INTERNAL'],
    ] as const) {
      const graph: GraphFile = {
        ...sampleGraph(),
        nodes: [{ id: 'f', type: 'test.fail', typeVersion: 1, params: { mode } }],
        edges: [],
        inputs: {},
      };
      const { result, events } = await run(graph, env);
      expect(result.status).toBe('error');
      expect(result.error).toMatchObject({ code, node: 'f' });
      expect(result.error?.message).not.toMatch(/\n\s+at /);
      const nodeError = events.find((e) => e.type === 'node:error');
      expect(nodeError).toMatchObject({ node: 'f', code });
      if (mode === 'coser') expect(nodeError).toMatchObject({ port: 'value', message: 'bad pixels' });
      if (mode === 'bug') expect(result.error?.message).toBe('x is undefined');
      expect(events.at(-1)).toMatchObject({ type: 'run:error', code, node: 'f' });
    }
  });

  it('reports a node that returns without one of its outputs as INTERNAL', async () => {
    const broken = defineNode({
      ...createFixtureNodes().constant,
      type: 'test.broken',
      async execute() {
        return {} as { value: number };
      },
    });
    const graph: GraphFile = {
      ...sampleGraph(),
      nodes: [{ id: 'x', type: 'test.broken', typeVersion: 1, params: {} }],
      edges: [],
      inputs: {},
    };
    const result = await executeGraph(graph, { registry: createRegistry([broken]), ...createFakeEnvironmentParts() });
    expect(result.error).toMatchObject({ code: 'INTERNAL', node: 'x' });
    expect(result.error?.message).toMatch(/no value for its output "value"/);
  });

  it('re-runs only what depends on a changed param, and always runs output and volatile nodes', async () => {
    const { env, calls } = setup(true);
    await run(sampleGraph(), env);
    expect(calls).toEqual({
      'test.constant': 2,
      'test.add': 1,
      'test.sink': 1,
      'test.image': 1,
      'test.upscale': 1,
      'test.imageSink': 1,
    });

    const again = await run(sampleGraph(), env);
    expect(calls).toEqual({
      'test.constant': 2,
      'test.add': 1,
      'test.sink': 2,
      'test.image': 1,
      'test.upscale': 1,
      'test.imageSink': 2,
    });
    expect(
      again.events.filter((e) => e.type === 'node:done' && e.cached).map((e) => (e as { node: string }).node),
    ).toEqual(['a', 'b', 'sum', 'img', 'up']);
    expect(again.result.values.get('sum')).toEqual({ sum: 6 });

    const changed = sampleGraph();
    changed.nodes[0]!.params = { value: 10 };
    const third = await run(changed, env);
    expect(third.result.values.get('sum')).toEqual({ sum: 14 });
    // Only `a` and `sum` depend on the change (plus the sinks, which always run).
    expect(calls).toEqual({
      'test.constant': 3,
      'test.add': 2,
      'test.sink': 3,
      'test.image': 1,
      'test.upscale': 1,
      'test.imageSink': 3,
    });

    // A default written out explicitly is the same params.
    const explicit = sampleGraph();
    explicit.nodes[5]!.params = {};
    await run(explicit, env);
    expect(calls['test.upscale']).toBe(1);

    const volatile: GraphFile = {
      ...sampleGraph(),
      nodes: [
        { id: 'f', type: 'test.fail', typeVersion: 1, params: {} },
        { id: 's', type: 'test.add', typeVersion: 2, params: {} },
      ],
      edges: [{ from: { node: 'f', port: 'value' }, to: { node: 's', port: 'a' } }],
      inputs: {},
    };
    await run(volatile, env);
    await run(volatile, env);
    expect(calls['test.fail']).toBe(2);
    // Downstream of a volatile node is not cached either: its input may have changed.
    expect(calls['test.add']).toBe(4);
  });

  it('lets a cancel from the event loop land between synchronous nodes', async () => {
    const { constant } = createFixtureNodes();
    let executed = 0;
    // Busy, synchronous node code, as most image nodes are: without a yield between nodes a timer (like a socket
    // message carrying a cancel) only fires after the whole graph has run.
    const busy = defineNode({
      ...constant,
      type: 'test.busy',
      async execute() {
        executed++;
        const until = performance.now() + 30;
        while (performance.now() < until) {}
        return { value: executed };
      },
    });
    const env: ExecutionEnv = { registry: createRegistry([busy]), ...createFakeEnvironmentParts() };
    const nodes = Array.from({ length: 10 }, (_, i) => ({
      id: `n${i}`,
      type: 'test.busy',
      typeVersion: 1,
      params: {},
    }));
    const graph: GraphFile = {
      format: 'coser-graph',
      version: 1,
      name: 'busy',
      description: '',
      nodes,
      edges: [],
      inputs: {},
    };
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 5);
    const { result } = await run(graph, env, controller.signal);
    expect(result.status).toBe('cancelled');
    expect(executed).toBeLessThan(10);
  });

  it('cancels between nodes and inside them', async () => {
    const { env, calls } = setup();
    const before = new AbortController();
    before.abort();
    const early = await run(sampleGraph(), env, before.signal);
    expect(early.result.status).toBe('cancelled');
    expect(early.types).toEqual(['run:started', 'run:cancelled']);
    expect(calls).toEqual({});

    const controller = new AbortController();
    const graph: GraphFile = {
      ...sampleGraph(),
      nodes: [
        { id: 'w', type: 'test.wait', typeVersion: 1, params: { ms: 5000 } },
        { id: 's', type: 'test.add', typeVersion: 2, params: {} },
      ],
      edges: [{ from: { node: 'w', port: 'value' }, to: { node: 's', port: 'a' } }],
      inputs: {},
    };
    const started = performance.now();
    const pending = run(graph, env, controller.signal);
    setTimeout(() => controller.abort(), 20);
    const { result, events } = await pending;
    expect(performance.now() - started).toBeLessThan(2000);
    expect(result.status).toBe('cancelled');
    expect(result.error?.code).toBe('CANCELLED');
    expect(events.at(-1)).toEqual({ type: 'run:cancelled', runId: 'r1', node: 'w' });
    expect(calls['test.add']).toBeUndefined();
  });

  it('keeps running when an event listener throws', async () => {
    const { env } = setup();
    const result = await executeGraph(sampleGraph(), env, {
      onEvent: () => {
        throw new Error('socket closed');
      },
    });
    expect(result.status).toBe('done');
    expect(result.runId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
