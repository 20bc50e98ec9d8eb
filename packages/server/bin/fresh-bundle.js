// Decides whether a build still matches the sources it was built from: the `coser` bin runs the bundled command line
// (dist/cli, built by scripts/build-cli.mjs) only while it does, else the TypeScript sources through tsx; `coser
// serve` says when the editor's build (packages/editor/dist, built by packages/editor/scripts/build-editor.mjs) is
// older than its sources. Each build writes inputs.json: every source file it read with its size and modification
// time then. Checking ~130 files takes about a millisecond; running a stale build after an edit would cost a
// developer far more.
import { readFileSync, statSync } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Whether the build in `buildDir` matches its sources.
 * @param {string} buildDir the build's folder (holds inputs.json)
 * @param {string} baseDir the folder inputs.json paths are relative to
 * @returns {{ fresh: true } | { fresh: false, missing: boolean, reason: string }} `missing`: there is no build at all
 */
export function buildFreshness(buildDir, baseDir) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(buildDir, 'inputs.json'), 'utf8'));
  } catch {
    return { fresh: false, missing: true, reason: `${buildDir} has no inputs.json` };
  }
  if (!Array.isArray(manifest?.inputs) || manifest.inputs.length === 0) {
    return { fresh: false, missing: false, reason: 'the build lists no sources' };
  }
  for (const [file, size, mtimeMs] of manifest.inputs) {
    let info;
    try {
      info = statSync(path.resolve(baseDir, file));
    } catch {
      return { fresh: false, missing: false, reason: `${file} is gone` };
    }
    if (info.size !== size || info.mtimeMs !== mtimeMs)
      return { fresh: false, missing: false, reason: `${file} changed` };
  }
  return { fresh: true };
}

/**
 * Whether `coser` may run the bundled command line.
 * @param {string} bundleDir the bundle's folder (holds main.mjs and inputs.json)
 * @param {string} baseDir the folder inputs.json paths are relative to (packages/server)
 * @returns {{ fresh: true, entry: string } | { fresh: false, reason: string }}
 */
export function freshBundle(bundleDir, baseDir) {
  const state = buildFreshness(bundleDir, baseDir);
  if (state.fresh) return { fresh: true, entry: path.join(bundleDir, 'main.mjs') };
  return { fresh: false, reason: state.missing ? 'no bundle (npm run build makes one)' : state.reason };
}

/**
 * Writes `buildDir/inputs.json` for {@link buildFreshness}: each source's path relative to `baseDir`, size and
 * modification time. A source saved at or after `startedAt` may not be what the build read: it is recorded as never
 * matching, so the build counts as stale until the next one.
 * @param {string} buildDir
 * @param {string} baseDir
 * @param {Iterable<string>} files absolute paths of the sources the build read
 * @param {number} startedAt when the build started (ms since the epoch)
 * @returns {Promise<number>} how many sources were recorded
 */
export async function writeBuildInputs(buildDir, baseDir, files, startedAt) {
  const inputs = [];
  for (const file of new Set(files)) {
    const info = await stat(file);
    inputs.push([path.relative(baseDir, file), info.size, info.mtimeMs >= startedAt ? -1 : info.mtimeMs]);
  }
  await writeFile(path.join(buildDir, 'inputs.json'), `${JSON.stringify({ inputs })}\n`);
  return inputs.length;
}
