import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * A fresh folder under the OS temp dir and a function that removes it. Use with `afterEach`/`afterAll`, or
 * `withTempDir` for a single test.
 */
export async function makeTempDir(prefix = 'coser-test-'): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Runs `fn` with a fresh temp folder, removed afterwards whether `fn` passed or threw. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>, prefix?: string): Promise<T> {
  const { dir, remove } = await makeTempDir(prefix);
  try {
    return await fn(dir);
  } finally {
    await remove();
  }
}
