// Fuzz-style tests of the data layer: random mutations of a valid graph must never make loading, validation,
// input application, static inference or execution throw, and never touch Object.prototype.
import { describe, expect, it } from 'vitest';
import { executeGraph } from '../engine/executor';
import { createRegistry } from '../engine/registry';
import { createFakeEnvironmentParts, createFixtureNodes, sampleGraph } from '../testing/fixtures';
import { applyGraphInputs } from './apply-inputs';
import { loadGraph } from './load-graph';
import { inferStaticInfo, validateGraph } from './validate';

/** A small deterministic PRNG (mulberry32) so failures reproduce from the seed in the test name. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NASTY: unknown[] = [
  null,
  0,
  -1,
  1e308,
  -1e308,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  '',
  '__proto__',
  'constructor',
  'prototype',
  'a',
  'sum',
  'test.add',
  'test.upscale',
  'x'.repeat(300),
  [],
  {},
  [[[[1]]]],
  { __proto__: null, x: 1 },
  true,
  2,
  8,
  { node: 'a', port: 'value' },
  { node: 'sum', param: 'offset' },
];

const KEYS = ['__proto__', 'constructor', 'prototype', 'id', 'type', 'params', 'x', 'nodes', 'offset', 'value'];

function mutate(value: unknown, rand: () => number, depth = 0): unknown {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  if (Array.isArray(value)) {
    const copy = [...value];
    const r = rand();
    if (r < 0.2 && copy.length > 0) copy.splice(Math.floor(rand() * copy.length), 1);
    else if (r < 0.35 && copy.length > 0) copy.push(structuredClone(pick(copy)));
    else if (r < 0.45) copy.push(pick(NASTY));
    else if (copy.length > 0) {
      const i = Math.floor(rand() * copy.length);
      copy[i] = mutate(copy[i], rand, depth + 1);
    }
    return copy;
  }
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    const r = rand();
    if (r < 0.15 && keys.length > 0) delete copy[pick(keys)];
    else if (r < 0.25) Object.defineProperty(copy, pick(KEYS), { value: pick(NASTY), enumerable: true });
    else if (r < 0.4 && keys.length > 0) copy[pick(keys)] = pick(NASTY);
    else if (keys.length > 0) {
      const key = pick(keys);
      copy[key] = mutate(copy[key], rand, depth + 1);
    }
    return copy;
  }
  return rand() < 0.7 ? pick(NASTY) : value;
}

function mutateText(text: string, rand: () => number): string {
  const at = Math.floor(rand() * text.length);
  const r = rand();
  if (r < 0.3) return text.slice(0, at);
  if (r < 0.6) return text.slice(0, at) + text.slice(at + 1 + Math.floor(rand() * 5));
  const junk = ['{', '}', '[', ']', '"', ',', ':', '\\', '"__proto__":{}', '1e999', 'null'][Math.floor(rand() * 11)]!;
  return text.slice(0, at) + junk + text.slice(at);
}

describe('fuzzing the graph data layer', () => {
  // No waiting node: execution of fuzzed graphs must stay quick.
  const { definitions } = createFixtureNodes();
  const registry = createRegistry(definitions.filter((d) => d.type !== 'test.wait'));
  const env = { registry, ...createFakeEnvironmentParts() };

  it('never throws on mutated graph values and texts', async () => {
    let loaded = 0;
    let valid = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const rand = random(seed);
      let value: unknown = sampleGraph();
      const rounds = 1 + Math.floor(rand() * 4);
      for (let i = 0; i < rounds; i++) value = mutate(value, rand);
      const text = rand() < 0.3 ? mutateText(JSON.stringify(value), rand) : JSON.stringify(value);
      for (const input of [value, text]) {
        const result = loadGraph(input);
        expect(Array.isArray(result.diagnostics), `seed ${seed}`).toBe(true);
        expect(result.graph !== undefined || result.diagnostics.length > 0, `seed ${seed}`).toBe(true);
        if (!result.graph) continue;
        loaded++;
        const diagnostics = validateGraph(result.graph, registry);
        expect(
          diagnostics.every((d) => d.code !== 'INTERNAL'),
          `seed ${seed}: ${JSON.stringify(diagnostics)}`,
        ).toBe(true);
        inferStaticInfo(result.graph, registry);
        applyGraphInputs(result.graph, { inputs: { first: 3, size: 2 }, set: { 'sum.offset': 1 } });
        if (diagnostics.some((d) => d.severity === 'error')) continue;
        valid++;
        const run = await executeGraph(result.graph, env);
        expect(['done', 'error'], `seed ${seed}`).toContain(run.status);
        if (run.status === 'error') expect(run.error?.code, `seed ${seed}`).not.toBe('INTERNAL');
      }
    }
    // The fuzzer must reach the later stages, or it tests nothing.
    expect(loaded).toBeGreaterThan(50);
    expect(valid).toBeGreaterThan(10);
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });
});
