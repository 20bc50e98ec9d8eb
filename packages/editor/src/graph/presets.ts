import type { GraphFile } from '@coser/runtime';
import { loadGraph } from '@coser/runtime';

/** A preset bundled with the editor from the repository's graphs/*.json. */
export interface Preset {
  /** File name without `.json`, e.g. `upscale-x4`. */
  name: string;
  /** The graph's `name`, e.g. "Upscale x4 (ESRGAN medium)". */
  title: string;
  /** The graph's `description`: what it does, what it needs. */
  description: string;
  load(): Promise<GraphFile>;
}

/** The preset a first visit opens (no autosaved graph yet): the main job, with its sample photo in Load Image. */
export const MAIN_PRESET = 'upscale-x4';

// Bundled whole (about 25 kB of JSON): the menu shows each one's title and description.
const graphs = import.meta.glob<unknown>('../../../../graphs/*.json', { import: 'default', eager: true });

/** Presets in the order the menu lists them: the main job first, then by file name. */
export const PRESETS: Preset[] = Object.entries(graphs)
  .map(([path, value]) => {
    const name = path
      .split('/')
      .pop()!
      .replace(/\.json$/, '');
    const { name: title, description } = value as { name?: unknown; description?: unknown };
    return {
      name,
      title: typeof title === 'string' ? title : name,
      description: typeof description === 'string' ? description : '',
      async load() {
        return loadPreset(value);
      },
    };
  })
  .sort((a, b) => Number(b.name === MAIN_PRESET) - Number(a.name === MAIN_PRESET) || a.name.localeCompare(b.name));

/** {@link MAIN_PRESET}'s graph: what a first visit opens. */
export function mainJobGraph(): GraphFile {
  return loadPreset(graphs[`../../../../graphs/${MAIN_PRESET}.json`]);
}

function loadPreset(value: unknown): GraphFile {
  const { graph, diagnostics } = loadGraph(value);
  if (!graph) throw new Error(`preset is invalid: ${diagnostics[0]?.message ?? 'unknown problem'}`);
  return graph;
}
