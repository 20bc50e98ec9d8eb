// The bundled command line (packages/server/dist/cli, built by npm install): it runs real commands, its lazily loaded
// chunks find their npm dependencies, and the bin only uses a bundle that matches the sources.
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshBundle } from '../packages/server/bin/fresh-bundle.js';
// @ts-expect-error plain JavaScript modules without type declarations
import { buildCli } from '../packages/server/scripts/build-cli.mjs';
import { pngSize } from './helpers/images';
import { GRAPHS_DIR, REPO_ROOT, SAMPLES_DIR } from './helpers/paths';
import { runCli } from './helpers/run-cli';
import { makeTempDir } from './helpers/temp-dir';

const SERVER_DIR = path.join(REPO_ROOT, 'packages', 'server');

/** Runs `main(argv)` of a bundle in a child process, as the bin would. */
function runBundle(entry: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  const script = `const { main } = await import(${JSON.stringify(pathToFileURL(entry).href)});
process.exitCode = await main(process.argv);`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, 'coser', ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', COSER_DEBUG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('the bundled command line', () => {
  // Inside the repository, so the bundle's imports of npm packages resolve from node_modules like dist/cli's do;
  // never dist/cli itself, which other tests' commands may be running.
  const bundleDir = path.join(SERVER_DIR, 'dist', `test-${process.pid}-${Date.now()}`);
  let work: { dir: string; remove: () => Promise<void> };

  beforeAll(async () => {
    await buildCli(bundleDir);
    work = await makeTempDir('coser-bundle-');
  }, 60_000);
  afterAll(async () => {
    await rm(bundleDir, { recursive: true, force: true });
    await work?.remove();
  });

  it('is fresh right after a build and runs a graph end to end (lazy chunks, sharp, onnx-free nodes)', async () => {
    const freshness = freshBundle(bundleDir, SERVER_DIR);
    expect(freshness).toEqual({ fresh: true, entry: path.join(bundleDir, 'main.mjs') });
    // More than one file: commands and their heavy dependencies load lazily, in their own chunks.
    expect((await readdir(bundleDir)).filter((f) => f.endsWith('.mjs')).length).toBeGreaterThan(2);

    const graph = path.join(GRAPHS_DIR, 'resize-and-fix.json');
    const out = path.join(work.dir, 'out');
    const ran = await runBundle(
      path.join(bundleDir, 'main.mjs'),
      ['run', graph, '--input', `image=${path.join(SAMPLES_DIR, 'astronaut-lr.png')}`, '--output', out],
      REPO_ROOT,
    );
    expect(ran.code, ran.output).toBe(0);
    const [file] = await readdir(out);
    expect(pngSize(await readFile(path.join(out, file!)))).toEqual({ width: 256, height: 256 });

    const invalid = await runBundle(path.join(bundleDir, 'main.mjs'), ['validate', '/no/such/graph.json'], work.dir);
    expect(invalid.code).toBe(1);
    expect(invalid.output).toContain('FILE_NOT_FOUND');
  });

  it('is stale once a source it was built from changes, is missing, or has no list of sources', async () => {
    const temp = await makeTempDir('coser-fresh-');
    const base = temp.dir;
    const bundle = path.join(base, 'bundle');
    await mkdir(bundle);
    const source = path.join(base, 'a.ts');
    await writeFile(source, 'export const a = 1;\n');
    expect(freshBundle(bundle, base)).toMatchObject({ fresh: false, reason: expect.stringContaining('no bundle') });

    const { mtimeMs, size } = await stat(source);
    await writeFile(path.join(bundle, 'inputs.json'), JSON.stringify({ inputs: [['a.ts', size, mtimeMs]] }));
    expect(freshBundle(bundle, base)).toEqual({ fresh: true, entry: path.join(bundle, 'main.mjs') });

    // Same size, newer time: an edit that kept the length.
    await utimes(source, new Date(), new Date(mtimeMs + 5000));
    expect(freshBundle(bundle, base)).toEqual({ fresh: false, reason: 'a.ts changed' });
    await rm(source);
    expect(freshBundle(bundle, base)).toEqual({ fresh: false, reason: 'a.ts is gone' });
    await temp.remove();
  });

  it('the bin says which it runs, and runs the sources when told to', async () => {
    const sources = await runCli(['--version'], { env: { COSER_NO_BUNDLE: '1', COSER_DEBUG: '1' } });
    expect(sources.code).toBe(0);
    expect(sources.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(sources.stderr).toContain('running the sources (COSER_NO_BUNDLE=1)');
    const either = await runCli(['--version'], { env: { COSER_DEBUG: '1' } });
    expect(either.stdout).toBe(sources.stdout);
    expect(either.stderr).toMatch(/running the (bundle .*dist[\\/]cli[\\/]main\.mjs|sources \(.+\))/);
  });
});
