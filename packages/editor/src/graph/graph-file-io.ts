import { readEmbeddedGraph, sniffImageFormat } from '@coser/nodes';
import type { Diagnostic, GraphFile } from '@coser/runtime';
import { loadGraph } from '@coser/runtime';

/** What a file dropped on (or opened in) the editor turned out to be. */
export type OpenedFile =
  | { kind: 'graph'; graph: GraphFile; source: 'json' | 'png'; warnings: Diagnostic[] }
  /** A plain image: the editor offers it to the selected Load Image node (or adds one). */
  | { kind: 'image'; format: 'png' | 'jpeg' | 'webp'; bytes: Uint8Array; name: string }
  | { kind: 'error'; message: string; diagnostics: Diagnostic[] };

/** Images above this are refused before reading them into memory (the worker enforces the pixel cap later). */
export const MAX_OPEN_BYTES = 64 * 1024 * 1024;

/**
 * Reads a file the user dropped or picked: a graph JSON, a PNG carrying a graph (iTXt `coser:graph`, written by
 * Save Image), or an image for Load Image. Never throws: anything else is a message saying what was wrong.
 */
export async function openFile(file: Blob & { name?: string }): Promise<OpenedFile> {
  const name = file.name ?? 'file';
  if (file.size > MAX_OPEN_BYTES) {
    return error(`${name} is ${(file.size / 1024 / 1024).toFixed(1)} MB, over the editor's limit of 64 MB`);
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  return openBytes(bytes, name);
}

/** {@link openFile} on bytes already read. */
export function openBytes(bytes: Uint8Array, name: string): OpenedFile {
  const format = sniffImageFormat(bytes);
  if (format === 'png') {
    const embedded = readEmbeddedGraph(bytes);
    if (embedded !== undefined) return fromLoad(loadGraph(embedded), name, 'png');
    return { kind: 'image', format, bytes, name };
  }
  if (format === 'jpeg' || format === 'webp') return { kind: 'image', format, bytes, name };
  if (format === 'svg' || format === 'html' || format === 'gif') {
    return error(
      `${name} is ${format.toUpperCase()}, which the editor does not open: use a graph (.json) or a PNG, JPEG or WebP image`,
    );
  }
  if (!looksLikeJson(bytes)) {
    return error(`${name} is neither a graph (.json) nor an image (PNG, JPEG, WebP)`);
  }
  return fromLoad(loadGraph(bytes), name, 'json');
}

function fromLoad(result: ReturnType<typeof loadGraph>, name: string, source: 'json' | 'png'): OpenedFile {
  if (result.graph) {
    return { kind: 'graph', graph: result.graph, source, warnings: result.diagnostics };
  }
  const future = result.diagnostics.find((d) => d.code === 'GRAPH_VERSION_FUTURE' || d.code === 'NODE_VERSION_FUTURE');
  if (future) {
    return error(
      `${name} was saved by a newer version of CoSeR Studio (${future.message}); update the editor to open it`,
      result.diagnostics,
    );
  }
  const first = result.diagnostics[0];
  return error(
    `${name} is not a valid graph: ${first ? `${first.code}: ${first.message}` : 'unknown problem'}`,
    result.diagnostics,
  );
}

function error(message: string, diagnostics: Diagnostic[] = []): OpenedFile {
  return { kind: 'error', message, diagnostics };
}

/** First non-blank byte is `{` (after an optional UTF-8 BOM). */
function looksLikeJson(bytes: Uint8Array): boolean {
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  return bytes[i] === 0x7b;
}

/** The graph as the CLI reads and writes it: two-space JSON with a final newline. */
export function graphToJson(graph: GraphFile): string {
  return `${JSON.stringify(graph, null, 2)}\n`;
}

/** A file name for a graph: its name in kebab-case, `.json`. */
export function graphFileName(graph: Pick<GraphFile, 'name'>): string {
  const base = graph.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `${base || 'graph'}.json`;
}
