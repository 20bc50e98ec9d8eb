import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The nearest folder at or above `start` with a package.json that has "workspaces" (the monorepo root). */
export function findRepoRoot(start: string): string | undefined {
  let dir = path.resolve(start);
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && hasWorkspaces(manifest)) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function hasWorkspaces(manifest: string): boolean {
  try {
    const pkg: unknown = JSON.parse(readFileSync(manifest, 'utf8'));
    return typeof pkg === 'object' && pkg !== null && 'workspaces' in pkg;
  } catch {
    return false;
  }
}
