import { describe, expect, it } from 'vitest';
import { createOutputCache, estimateBytes } from './output-cache';

const image = (n: number) => ({ image: { width: n, height: 1, channels: 1, data: new Float32Array(n) } });

describe('createOutputCache', () => {
  it('evicts the least recently used entries to stay under budget', () => {
    const cache = createOutputCache({ maxBytes: 10_000 });
    cache.set('a', image(1000));
    cache.set('b', image(1000));
    expect(cache.size).toBe(2);
    cache.get('a'); // a becomes most recent
    cache.set('c', image(1000));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
    expect(cache.bytes).toBeLessThanOrEqual(10_000);
  });

  it('does not store an entry larger than the budget, and supports delete/clear', () => {
    const cache = createOutputCache({ maxBytes: 1000 });
    cache.set('big', image(1000));
    expect(cache.size).toBe(0);
    cache.set('x', { value: 1 });
    expect(cache.delete('x')).toBe(true);
    expect(cache.bytes).toBe(0);
    cache.set('y', { value: 1 });
    cache.clear();
    expect(cache.size).toBe(0);
  });
});

describe('estimateBytes', () => {
  it('counts typed arrays once per buffer, strings and numbers', () => {
    const data = new Float32Array(256);
    expect(estimateBytes(data)).toBe(1024);
    expect(estimateBytes({ a: data, b: data })).toBe(1024 + 32);
    expect(estimateBytes('abcd')).toBe(8);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(estimateBytes(cyclic)).toBe(32);
  });
});
