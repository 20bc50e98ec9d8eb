import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The shared sample photos for tests (NAME_hr.png / NAME_lr.png). CI clones the repository next to a copy of
 * shared/, so look beside the checkout first and fall back to the developers' machine layout. Node-only: tests use it.
 */
export const SHARED_IMAGES_DIR = ((): string => {
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
  const beside = path.resolve(repoRoot, '..', 'shared', 'data', 'images');
  return existsSync(beside) ? beside : '/work/shared/data/images';
})();
