// Decides whether `coser` may run the bundled command line (dist/cli, built by scripts/build-cli.mjs) or must compile
// the TypeScript sources with tsx: the bundle is used only while every source it was built from has the size and
// modification time it had then. Checking ~130 files takes about a millisecond; running a stale bundle after an edit
// would cost a developer far more.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * @param {string} bundleDir the bundle's folder (holds main.mjs and inputs.json)
 * @param {string} baseDir the folder inputs.json paths are relative to (packages/server)
 * @returns {{ fresh: true, entry: string } | { fresh: false, reason: string }}
 */
export function freshBundle(bundleDir, baseDir) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(bundleDir, 'inputs.json'), 'utf8'));
  } catch {
    return { fresh: false, reason: 'no bundle (npm run build makes one)' };
  }
  if (!Array.isArray(manifest?.inputs) || manifest.inputs.length === 0) {
    return { fresh: false, reason: 'the bundle lists no sources' };
  }
  for (const [file, size, mtimeMs] of manifest.inputs) {
    let info;
    try {
      info = statSync(path.resolve(baseDir, file));
    } catch {
      return { fresh: false, reason: `${file} is gone` };
    }
    if (info.size !== size || info.mtimeMs !== mtimeMs) return { fresh: false, reason: `${file} changed` };
  }
  return { fresh: true, entry: path.join(bundleDir, 'main.mjs') };
}
