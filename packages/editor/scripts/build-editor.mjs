#!/usr/bin/env node
// Builds the editor (Vite) into packages/editor/dist, which `coser serve` serves. Run by `npm install` (postinstall)
// and `npm run build`, so a fresh checkout has an editor without a separate step. Like the command line's bundle
// (packages/server/scripts/build-cli.mjs), the build records every source file it read (dist/inputs.json, paths
// relative to the repository root), and
// `coser serve` says when one of them changed since (packages/server/bin/fresh-bundle.js decides for both).
//
// Plain JavaScript on purpose: it runs from postinstall, before anything TypeScript is set up.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { writeBuildInputs } from '../../server/bin/fresh-bundle.js';

const editorDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(editorDir, '../..');

/**
 * Files that decide the build without being modules Vite reports: its configuration, and the folders whose files
 * are bundled through `import.meta.glob` (a preset or sample added or removed changes the folder's time).
 */
const EXTRA_INPUTS = [
  path.join(editorDir, 'vite.config.ts'),
  path.join(editorDir, 'package.json'),
  path.join(repoRoot, 'graphs'),
  path.join(repoRoot, 'graphs', 'samples'),
];

/**
 * Collects the files a build read, from the page's bundle and the worker's (Vite bundles the worker separately).
 * Our own sources only: dependencies change through `npm install`, which rebuilds.
 */
function recordSources(sources) {
  return {
    name: 'coser-record-sources',
    generateBundle() {
      for (const id of this.getModuleIds()) {
        const file = id.split('?')[0];
        if (path.isAbsolute(file) && !file.includes(`${path.sep}node_modules${path.sep}`) && existsSync(file)) {
          sources.add(file);
        }
      }
    },
  };
}

/** Builds the editor into `outDir` (default packages/editor/dist) and records its sources. */
export async function buildEditor(outDir = path.join(editorDir, 'dist')) {
  // Built beside the target, then swapped in: a server serving the old build never serves half of the new one.
  const staging = `${outDir}.${randomBytes(4).toString('hex')}.tmp`;
  const startedAt = Date.now();
  const sources = new Set(EXTRA_INPUTS);
  try {
    await build({
      configFile: path.join(editorDir, 'vite.config.ts'),
      root: editorDir,
      logLevel: 'warn',
      plugins: [recordSources(sources)],
      worker: { plugins: () => [recordSources(sources)] },
      build: { outDir: staging, emptyOutDir: true },
    });
    const inputs = await writeBuildInputs(staging, repoRoot, sources, startedAt);
    await rm(outDir, { recursive: true, force: true });
    await rename(staging, outDir);
    return { outDir, inputs, ms: Date.now() - startedAt };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const built = await buildEditor();
  process.stdout.write(
    `coser: editor built into ${path.relative(repoRoot, built.outDir)} (${built.inputs} sources, ${(built.ms / 1000).toFixed(1)} s)\n`,
  );
}
