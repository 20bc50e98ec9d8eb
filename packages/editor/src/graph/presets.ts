import type { GraphFile } from '@coser/runtime';
import { loadGraph } from '@coser/runtime';

/** A preset bundled with the editor from the repository's graphs/*.json. */
export interface Preset {
  /** File name without `.json`, e.g. `upscale-x4`. */
  name: string;
  load(): Promise<GraphFile>;
}

// Presets are loaded on demand: the list costs nothing until the user opens one.
const modules = import.meta.glob<unknown>('../../../../graphs/*.json', { import: 'default' });

export const PRESETS: Preset[] = Object.entries(modules)
  .map(([path, importer]) => ({
    name: path
      .split('/')
      .pop()!
      .replace(/\.json$/, ''),
    async load() {
      const { graph, diagnostics } = loadGraph(await importer());
      if (!graph) throw new Error(`preset is invalid: ${diagnostics[0]?.message ?? 'unknown problem'}`);
      return graph;
    },
  }))
  .sort((a, b) => a.name.localeCompare(b.name));
