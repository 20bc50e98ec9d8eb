import { describe, expect, it } from 'vitest';
import { isCoserError } from '../errors';
import { planExecution, topologicalSort } from './planner';

const e = (from: string, to: string) => ({ from: { node: from }, to: { node: to } });

describe('topologicalSort', () => {
  it('orders dependencies first and keeps file order among ready nodes', () => {
    expect(topologicalSort(['c', 'a', 'b'], [e('a', 'c'), e('b', 'c')]).order).toEqual(['a', 'b', 'c']);
    expect(topologicalSort(['x', 'y', 'z'], []).order).toEqual(['x', 'y', 'z']);
    expect(topologicalSort(['x', 'y', 'z', 'w'], [e('z', 'x'), e('w', 'y')]).order).toEqual(['z', 'x', 'w', 'y']);
  });

  it('reports each cycle by its nodes, in edge order, including self-loops', () => {
    const { order, cycles } = topologicalSort(
      ['s', 'a', 'b', 'c', 'd', 'self'],
      [e('s', 'a'), e('a', 'b'), e('b', 'c'), e('c', 'a'), e('c', 'd'), e('self', 'self')],
    );
    expect(order).toEqual(['s']);
    expect(cycles).toHaveLength(2);
    expect(cycles).toContainEqual(['self']);
    const abc = cycles.find((c) => c.length === 3)!;
    const start = abc.indexOf('a');
    expect([...abc.slice(start), ...abc.slice(0, start)]).toEqual(['a', 'b', 'c']);
  });

  it('handles long chains without recursion', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `n${i}`);
    const edges = ids.slice(1).map((id, i) => e(ids[i]!, id));
    edges.push(e(ids.at(-1)!, ids[0]!));
    expect(topologicalSort(ids, edges).cycles[0]).toHaveLength(20_000);
  });
});

describe('planExecution', () => {
  it('throws GRAPH_CYCLE naming the nodes', () => {
    try {
      planExecution({ nodes: [{ id: 'a' }, { id: 'b' }] as never, edges: [e('a', 'b'), e('b', 'a')] as never });
      expect.unreachable();
    } catch (error) {
      expect(isCoserError(error) && error.code).toBe('GRAPH_CYCLE');
      expect((error as Error).message).toMatch(/a -> b -> a|b -> a -> b/);
    }
  });
});
