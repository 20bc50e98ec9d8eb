import type { GraphFile } from '@coser/runtime';

/**
 * Gives a server the images a graph names before it runs there. An image dropped while running locally is named by
 * its id in this tab (`uploads/photo.png`), which the server has never seen; switching to a server would otherwise
 * make the run fail with FILE_NOT_FOUND. Each string param value naming an image this editor holds is uploaded once
 * per server and replaced by the server's name, in the submitted copy only: the canvas keeps its own names, so
 * switching back to local runs still works.
 *
 * @param images bytes of every image dropped into the editor, by the param value that names it
 * @param onServer this server's names for images already uploaded to it (filled in here)
 * @param upload uploads bytes to the server and resolves with the server's name for them
 */
export async function withImagesOnServer(
  graph: GraphFile,
  images: ReadonlyMap<string, Uint8Array>,
  onServer: Map<string, string>,
  upload: (name: string, bytes: Uint8Array) => Promise<string>,
): Promise<GraphFile> {
  let changed = false;
  const nodes = [];
  for (const node of graph.nodes) {
    const params: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node.params)) {
      params[key] = typeof value === 'string' ? await serverName(value) : value;
      if (params[key] !== value) changed = true;
    }
    nodes.push({ ...node, params });
  }
  return changed ? { ...graph, nodes } : graph;

  async function serverName(value: string): Promise<string> {
    const known = onServer.get(value);
    if (known !== undefined) return known;
    const bytes = images.get(value);
    if (!bytes) return value;
    const name = await upload(value.split('/').pop() ?? value, bytes);
    onServer.set(value, name);
    return name;
  }
}
