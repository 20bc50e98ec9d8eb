import { readdir, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, sep } from 'node:path';
import type { RunOutputs } from '@coser/runtime';
import type { RunFile } from './types';

// What a run folder holds, as clients see it; shared by the in-process scheduler and the Redis workers.

/** Output files of a run folder, relative, skipping hidden temporaries of atomic writes. */
export async function listFiles(dir: string): Promise<RunFile[]> {
  const files: RunFile[] = [];
  let entries: string[];
  try {
    entries = await readdir(dir, { recursive: true });
  } catch {
    return files;
  }
  for (const entry of entries.sort()) {
    const name = entry.split(sep).join('/');
    if (name.split('/').some((part) => part.startsWith('.')) || name.endsWith('.tmp')) continue;
    const info = await stat(join(dir, entry)).catch(() => undefined);
    if (info?.isFile()) files.push({ name, bytes: info.size });
  }
  return files;
}

/** File summaries name paths relative to the run folder: clients never see server or worker paths. */
export function relativiseOutputs(outputs: RunOutputs, dir: string): RunOutputs {
  const result: RunOutputs = {};
  for (const [node, ports] of Object.entries(outputs)) {
    const copy: RunOutputs[string] = {};
    for (const [port, summary] of Object.entries(ports)) {
      if (summary.kind === 'file') {
        const rel = relative(dir, summary.path);
        const inside = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
        copy[port] = { ...summary, path: inside ? rel.split(sep).join('/') : basename(summary.path) };
      } else {
        copy[port] = summary;
      }
    }
    result[node] = copy;
  }
  return result;
}
