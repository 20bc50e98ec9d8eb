import { mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeBuildInputs } from '../../bin/fresh-bundle.js';
import { editorBuildStatus, editorBuildWarning, editorMissingPage } from './editor-build';

const made: string[] = [];
afterEach(async () => {
  for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A repository with one editor source and a build of it made at `builtAt`. */
async function builtRepo(builtAt = Date.now() + 1000) {
  const root = join(tmpdir(), `coser-editor-build-${process.pid}-${made.length}-${Date.now()}`);
  made.push(root);
  const source = join(root, 'packages/editor/src/app.tsx');
  const dist = join(root, 'packages/editor/dist');
  await mkdir(join(root, 'packages/editor/src'), { recursive: true });
  await mkdir(dist, { recursive: true });
  await writeFile(source, 'export const app = 1;\n');
  await writeFile(join(dist, 'index.html'), '<!doctype html>');
  await writeBuildInputs(dist, root, [source], builtAt);
  return { root, source, dist };
}

describe('editorBuildStatus (what coser serve says about the editor build)', () => {
  it('is ready right after a build, stale once a source changes, missing without index.html', async () => {
    const { root, source, dist } = await builtRepo();
    expect(editorBuildStatus(dist, root)).toEqual({ state: 'ready', dir: dist });

    // Same length, newer time: an edit after the build.
    await utimes(source, new Date(), new Date(Date.now() + 5000));
    const stale = editorBuildStatus(dist, root);
    expect(stale).toMatchObject({ state: 'stale' });
    if (stale.state !== 'stale') throw new Error('expected stale');
    expect(stale.problem).toContain('packages/editor/src/app.tsx changed');
    expect(editorBuildWarning(stale)).toContain('`npm run build -w @coser/editor` rebuilds it');
    // Without the repository the sources are not checked (a build passed in by a caller).
    expect(editorBuildStatus(dist)).toEqual({ state: 'ready', dir: dist });

    await rm(join(dist, 'index.html'));
    const missing = editorBuildStatus(dist, root);
    expect(missing).toMatchObject({ state: 'missing' });
    if (missing.state !== 'missing') throw new Error('expected missing');
    expect(editorBuildWarning(missing)).toMatch(/not built .*run `npm run build -w @coser\/editor`/);
    expect(editorMissingPage(missing)).toContain('<code>npm run build -w @coser/editor</code>');
  });

  it('counts a source saved while the build ran as changed, and a build without a source list as stale', async () => {
    const during = await builtRepo(0);
    expect(editorBuildStatus(during.dist, during.root)).toMatchObject({ state: 'stale' });

    const { root, dist } = await builtRepo();
    await rm(join(dist, 'inputs.json'));
    const unlisted = editorBuildStatus(dist, root);
    expect(unlisted).toMatchObject({ state: 'stale' });
    if (unlisted.state !== 'stale') throw new Error('expected stale');
    expect(unlisted.problem).toContain('does not list its sources');
  });

  it('escapes the problem in the page', () => {
    const page = editorMissingPage({ state: 'missing', dir: '/x', problem: '<script>alert(1)</script>' });
    expect(page).not.toContain('<script>');
    expect(page).toContain('&lt;script&gt;');
  });
});
