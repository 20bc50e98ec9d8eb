import { describe, expect, it } from 'vitest';
import { createFixtureNodes } from '../testing/fixtures';
import { GRAPH_MIGRATIONS, type GraphMigration, migrateGraph, migrateNodeParams } from './migrations';
import { GRAPH_VERSION } from './schema';

describe('migrateGraph', () => {
  const steps: GraphMigration[] = [
    { from: 1, description: 'rename links to edges', migrate: ({ links, ...rest }) => ({ ...rest, edges: links }) },
    {
      from: 2,
      description: 'nodes get typeVersion',
      migrate: (g) => ({
        ...g,
        nodes: (g['nodes'] as Record<string, unknown>[]).map((n) => ({ typeVersion: 1, ...n })),
      }),
    },
  ];

  it('has no migrations while version 1 is current', () => {
    expect(GRAPH_VERSION).toBe(1);
    expect(GRAPH_MIGRATIONS).toEqual([]);
    expect(migrateGraph({ version: 1, nodes: [] }).graph).toEqual({ version: 1, nodes: [] });
  });

  it('applies each step in order and stamps the version, without mutating the input', () => {
    const old = { version: 1, nodes: [{ id: 'a' }], links: [] };
    const { graph, diagnostics } = migrateGraph(old, steps, 3);
    expect(diagnostics).toEqual([]);
    expect(graph).toEqual({ version: 3, nodes: [{ id: 'a', typeVersion: 1 }], edges: [] });
    expect(old).toEqual({ version: 1, nodes: [{ id: 'a' }], links: [] });
    expect(migrateGraph({ version: 2, nodes: [], edges: [] }, steps, 3).graph).toEqual({
      version: 3,
      nodes: [],
      edges: [],
    });
  });

  it('reports future versions, gaps and failing steps', () => {
    expect(migrateGraph({ version: 4 }, steps, 3).diagnostics[0]?.code).toBe('GRAPH_VERSION_FUTURE');
    expect(migrateGraph({ version: 1 }, [steps[1]!], 3).diagnostics[0]?.message).toMatch(/no migration from .* 1 to 2/);
    const throwing: GraphMigration = {
      from: 1,
      description: 'boom',
      migrate: () => {
        throw new Error('bad shape');
      },
    };
    expect(migrateGraph({ version: 1 }, [throwing], 2).diagnostics[0]).toMatchObject({ code: 'GRAPH_FORMAT' });
    expect(migrateGraph({ version: 1.5 }, steps, 3).diagnostics[0]?.code).toBe('GRAPH_FORMAT');
  });
});

describe('migrateNodeParams', () => {
  const add = createFixtureNodes().definitions.find((d) => d.type === 'test.add')!;

  it('upgrades params saved by an older typeVersion', () => {
    expect(migrateNodeParams(add, { id: 'n', typeVersion: 1, params: { bias: 3 } }).params).toEqual({ offset: 3 });
    expect(migrateNodeParams(add, { id: 'n', typeVersion: 2, params: { offset: 3 } }).params).toEqual({ offset: 3 });
  });

  it('refuses a typeVersion from the future and missing steps', () => {
    const future = migrateNodeParams(add, { id: 'n', typeVersion: 3, params: {} });
    expect(future.params).toBeUndefined();
    expect(future.diagnostics[0]).toMatchObject({ code: 'NODE_VERSION_FUTURE', node: 'n' });
    const gap = migrateNodeParams({ ...add, typeVersion: 3 }, { id: 'n', typeVersion: 1, params: {} });
    expect(gap.diagnostics[0]?.message).toMatch(/no params migration from version 2 to 3/);
  });
});
