#!/usr/bin/env node
// The `coser` command. It runs the bundle `npm install` builds (dist/cli, plain JavaScript: starts about twice as fast)
// while that matches the sources, else the TypeScript sources through tsx's loader (an edited checkout, or
// COSER_NO_BUNDLE=1). Every heavy module (onnxruntime, sharp) is imported inside the command that needs it, so that
// `coser --help` and `coser validate` start quickly either way.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freshBundle } from './fresh-bundle.js';

const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundle =
  process.env.COSER_NO_BUNDLE === '1'
    ? { fresh: false, reason: 'COSER_NO_BUNDLE=1' }
    : freshBundle(path.join(serverDir, 'dist', 'cli'), serverDir);
if (process.env.COSER_DEBUG === '1') {
  process.stderr.write(
    bundle.fresh ? `coser: running the bundle ${bundle.entry}\n` : `coser: running the sources (${bundle.reason})\n`,
  );
}
let main;
if (bundle.fresh) {
  ({ main } = await import(pathToFileURL(bundle.entry).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
const code = await main(process.argv);
process.exitCode = code;
// Normally the process ends by itself once stdout/stderr are flushed. Should something still hold the event loop
// (a native pool, a stray handle), leave anyway shortly after: a finished command must not hang.
setTimeout(() => process.exit(code), 500).unref();
