#!/usr/bin/env node
// Bundles the `coser` command line into packages/server/dist/cli/ with esbuild, so the command starts without
// compiling TypeScript on every call (tsx): about twice as fast for short commands (see docs/developing.md).
// Run by `npm install` (postinstall) and `npm run build`. The bin uses the bundle only while every source file it
// was built from is unchanged (dist/cli/inputs.json), so an edited checkout never runs stale code.
//
// Plain JavaScript on purpose: it runs before anything TypeScript is set up.
import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { writeBuildInputs } from '../bin/fresh-bundle.js';

const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(serverDir, '../..');

/**
 * Builds the bundle into `outDir` (default dist/cli). Our own packages (@coser/*, TypeScript sources) are bundled;
 * every npm dependency stays an import, resolved from node_modules at run time. Code splitting keeps each lazily
 * imported command module (and the heavy dependencies it imports: onnxruntime, sharp, socket.io) in its own chunk,
 * loaded only when that command runs.
 */
export async function buildCli(outDir = path.join(serverDir, 'dist', 'cli')) {
  // Built beside the target, then swapped in: a command starting meanwhile sees the old bundle or none, never half.
  const staging = `${outDir}.${randomBytes(4).toString('hex')}.tmp`;
  const startedAt = Date.now();
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: { main: path.join(serverDir, 'src/cli/main.ts') },
    outdir: staging,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outExtension: { '.js': '.mjs' },
    metafile: true,
    logLevel: 'warning',
    plugins: [
      {
        name: 'dependencies-stay-external',
        setup(esbuild) {
          esbuild.onResolve({ filter: /^[^./]/ }, (args) =>
            args.path.startsWith('@coser/') ? undefined : { path: args.path, external: true },
          );
        },
      },
    ],
  });
  const sources = Object.keys(result.metafile.inputs).map((input) => path.resolve(repoRoot, input));
  const inputs = await writeBuildInputs(staging, serverDir, sources, startedAt);
  await rm(outDir, { recursive: true, force: true });
  await rename(staging, outDir);
  return { outDir, inputs };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const built = await buildCli();
  process.stdout.write(
    `coser: command line bundled into ${path.relative(process.cwd(), built.outDir)} (${built.inputs} sources)\n`,
  );
}
