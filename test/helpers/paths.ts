import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is test/helpers/paths.ts). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Preset graphs. */
export const GRAPHS_DIR = path.join(REPO_ROOT, 'graphs');
/** Small sample images committed to the repo (64 px), so tests never depend on shared data. */
export const SAMPLES_DIR = path.join(GRAPHS_DIR, 'samples');
/** The `coser` executable as npm links it. */
export const COSER_BIN = path.join(REPO_ROOT, 'packages', 'server', 'bin', 'coser.js');
/**
 * The shared sample photos (NAME_hr.png / NAME_lr.png). CI clones the repository next to a copy of shared/, so look
 * beside the checkout first and fall back to the developers' machine layout.
 */
export const SHARED_IMAGES_DIR = sharedImagesDir();

function sharedImagesDir(): string {
  const beside = path.resolve(REPO_ROOT, '..', 'shared', 'data', 'images');
  return existsSync(beside) ? beside : '/work/shared/data/images';
}
