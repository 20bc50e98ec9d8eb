import { describe, expect, it } from 'vitest';
import type { ModelSource } from './inference-backend';
import { createSessionCache } from './session-cache';

function setup(budget: number) {
  const log: string[] = [];
  let created = 0;
  const cache = createSessionCache<{ key: string; id: number }>({
    memoryBudgetBytes: budget,
    async create(model) {
      log.push(`create ${model.key}`);
      if (model.key === 'bad') throw new Error('corrupt');
      await new Promise((r) => setTimeout(r, 1));
      return { key: model.key, id: created++ };
    },
    async dispose(session) {
      log.push(`dispose ${session.key}`);
    },
  });
  const model = (key: string, sizeBytes = 100): ModelSource => ({ key, name: key, sizeBytes });
  return { cache, log, model };
}

describe('createSessionCache', () => {
  it('reuses sessions by key and shares concurrent loads', async () => {
    const { cache, log, model } = setup(10_000);
    const [a1, a2] = await Promise.all([cache.get(model('a')), cache.get(model('a'))]);
    expect(a1).toBe(a2);
    expect(await cache.get(model('a'))).toBe(a1);
    expect(log).toEqual(['create a']);
  });

  it('releases least recently used sessions to fit the budget (size x2)', async () => {
    const { cache, log, model } = setup(450);
    await cache.get(model('a'));
    await cache.get(model('b'));
    await cache.get(model('a')); // a is now the most recent
    await cache.get(model('c'));
    expect(log).toEqual(['create a', 'create b', 'dispose b', 'create c']);
    expect(cache.stats()).toEqual({ keys: ['a', 'c'], bytes: 400 });
  });

  it('loads a model larger than the whole budget alone', async () => {
    const { cache, model } = setup(100);
    await cache.get(model('a', 10));
    await cache.get(model('huge', 1000));
    expect(cache.stats().keys).toEqual(['huge']);
  });

  it('does not cache failed loads', async () => {
    const { cache, log, model } = setup(1000);
    await expect(cache.get(model('bad'))).rejects.toThrow('corrupt');
    await expect(cache.get(model('bad'))).rejects.toThrow('corrupt');
    expect(log).toEqual(['create bad', 'create bad']);
    expect(cache.stats().keys).toEqual([]);
  });

  it('never disposes a session while it runs, and reloads one evicted before use', async () => {
    const { cache, log, model } = setup(250);
    await cache.get(model('a'));
    let finish: () => void = () => {};
    const running = cache.use(model('a'), (s) => new Promise<string>((r) => (finish = () => r(s.key))));
    await cache.release('a');
    expect(log).toEqual(['create a']);
    finish();
    expect(await running).toBe('a');
    expect(log).toEqual(['create a', 'dispose a']);
    // `a` is gone; using it loads it again.
    await cache.use(model('a'), async (s) => s.id);
    expect(log.at(-1)).toBe('create a');
    await cache.releaseAll();
    expect(cache.stats()).toEqual({ keys: [], bytes: 0 });
  });
});
