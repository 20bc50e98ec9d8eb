import type { GraphFile } from '@coser/runtime';
import { loadGraph } from '@coser/runtime';

const KEY = 'coser.editor.autosave';

/** Keeps the graph being edited in localStorage so that a reload (or a crash) loses nothing. */
export function autosave(graph: GraphFile, storage: Storage | undefined = globalThis.localStorage): void {
  try {
    storage?.setItem(KEY, JSON.stringify(graph));
  } catch {
    // Quota exceeded or storage disabled: autosave is a convenience, editing goes on.
  }
}

/** The autosaved graph, if there is one and it still loads (it passes the same checks as an opened file). */
export function restoreAutosave(storage: Storage | undefined = globalThis.localStorage): GraphFile | undefined {
  try {
    const text = storage?.getItem(KEY);
    if (!text) return undefined;
    return loadGraph(text).graph;
  } catch {
    return undefined;
  }
}
