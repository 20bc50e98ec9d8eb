import { describe, expect, it } from 'vitest';
import { History } from './history';

describe('History', () => {
  it('undoes and redoes, merging unchanged pushes', () => {
    const h = new History({ n: 0 });
    expect(h.push({ n: 0 })).toBe(false);
    h.push({ n: 1 });
    h.push({ n: 2 });
    expect(h.undo()).toEqual({ n: 1 });
    expect(h.undo()).toEqual({ n: 0 });
    expect(h.undo()).toBeUndefined();
    expect(h.redo()).toEqual({ n: 1 });
    h.push({ n: 5 });
    expect(h.canRedo).toBe(false);
    expect(h.undo()).toEqual({ n: 1 });
  });

  it('keeps at most `limit` steps and returns copies', () => {
    const h = new History({ n: 0 }, 3);
    for (let i = 1; i <= 10; i++) h.push({ n: i });
    let steps = 0;
    while (h.undo()) steps++;
    expect(steps).toBe(3);
    const a = h.redo()!;
    a.n = 99;
    expect(h.undo()).toEqual({ n: 7 });
  });
});
