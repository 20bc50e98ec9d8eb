import type { CatalogEntry, GraphFile, GraphInput } from '@coser/runtime';
import { widgetsForParams } from './param-schema';

/** What the first image input of a graph is called: `coser run graph.json --input image=photo.png`, as in the presets. */
export const IMAGE_INPUT = 'image';

/** The param a node type reads an image file from (Load Image's `path`), or undefined when it reads none. */
export function imagePathParam(entry: CatalogEntry | undefined): string | undefined {
  return entry ? widgetsForParams(entry.params).find((w) => w.kind === 'image-path')?.key : undefined;
}

/** `image` when free, else `image2`, `image3`, …: a graph input name not used yet. */
export function freeInputName(inputs: Readonly<Record<string, GraphInput>>, base = IMAGE_INPUT): string {
  if (!(base in inputs)) return base;
  for (let i = 2; ; i++) if (!(`${base}${i}` in inputs)) return `${base}${i}`;
}

/**
 * Makes each new node that reads an image file (Load Image) a graph input, so that a graph made in the editor runs
 * headless on other images: the first is `image`, later ones `image2`, `image3`, … A node that is already an input
 * keeps its name.
 */
export function withImageInputs(
  inputs: Readonly<Record<string, GraphInput>>,
  added: readonly { id: string; entry: CatalogEntry | undefined }[],
): Record<string, GraphInput> {
  const next = { ...inputs };
  for (const { id, entry } of added) {
    const param = imagePathParam(entry);
    if (!param || Object.values(next).some((input) => input.node === id && input.param === param)) continue;
    next[freeInputName(next)] = { node: id, param };
  }
  return next;
}

/**
 * The graph as a file to keep: images dropped into the editor are named by the file they came from (`photo.png`)
 * instead of this editor's or the server's upload id (`uploads/photo.png`, `UUID/photo.png`), which mean nothing
 * elsewhere. `coser run saved.json --input image=photo.png` then runs it, and without `--input` it finds photo.png
 * beside the graph.
 *
 * @param originalNames upload id -> the dropped file's name
 */
export function withOriginalImageNames(graph: GraphFile, originalNames: ReadonlyMap<string, string>): GraphFile {
  let changed = false;
  const nodes = graph.nodes.map((node) => {
    const params: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node.params)) {
      const original = typeof value === 'string' ? originalNames.get(value) : undefined;
      params[key] = original ?? value;
      if (original !== undefined) changed = true;
    }
    return { ...node, params };
  });
  return changed ? { ...graph, nodes } : graph;
}
