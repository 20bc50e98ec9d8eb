import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { CoserError, type Diagnostic, type GraphFile, loadGraph } from '@coser/runtime';

/** Graph files over this size are refused before reading (a shared preset is a few kB; 10 MB is plenty). */
export const MAX_GRAPH_FILE_BYTES = 10 * 1024 * 1024;

export interface LoadedGraphFile {
  /** Absolute path of the graph file. */
  readonly path: string;
  /** The graph after migration, when it could be loaded. */
  readonly graph?: GraphFile;
  /** Load diagnostics (not JSON, wrong format, future version, schema errors). */
  readonly diagnostics: Diagnostic[];
}

/**
 * Reads and loads a graph file named on the command line. A missing file or a folder is FILE_NOT_FOUND, an
 * oversized one GRAPH_TOO_LARGE (thrown: nothing to validate); content problems come back as diagnostics.
 */
export async function loadGraphFile(file: string): Promise<LoadedGraphFile> {
  const absolute = path.resolve(file);
  let size: number;
  try {
    const info = await stat(absolute);
    if (!info.isFile()) throw new CoserError('FILE_NOT_FOUND', `graph ${file} is not a file`);
    size = info.size;
  } catch (error) {
    if (error instanceof CoserError) throw error;
    throw new CoserError('FILE_NOT_FOUND', `graph file ${file} not found`);
  }
  if (size > MAX_GRAPH_FILE_BYTES) {
    throw new CoserError('GRAPH_TOO_LARGE', `graph file ${file} is ${size} bytes, over ${MAX_GRAPH_FILE_BYTES}`);
  }
  const text = await readFile(absolute, 'utf8');
  const { graph, diagnostics } = loadGraph(text);
  return { path: absolute, diagnostics, ...(graph ? { graph } : {}) };
}
