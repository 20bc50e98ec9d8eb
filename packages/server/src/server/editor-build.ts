import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildFreshness } from '../../bin/fresh-bundle.js';

/** The command that (re)builds the editor `coser serve` serves (also run by `npm install`). */
export const EDITOR_BUILD_COMMAND = 'npm run build -w @coser/editor';

/** What `coser serve` found where the built editor should be. */
export type EditorBuild =
  | { state: 'ready'; dir: string }
  /** Served, but built from older sources: `problem` says which source changed. */
  | { state: 'stale'; dir: string; problem: string }
  /** Nothing to serve: `/` answers a page saying how to build it. */
  | { state: 'missing'; dir: string; problem: string };

/**
 * Checks the editor build in `dir`. With `repoRoot`, also whether every source the build read (its inputs.json,
 * written by packages/editor/scripts/build-editor.mjs) is unchanged, as the `coser` bin checks its own bundle
 * (packages/server/bin/fresh-bundle.js). Without it (a build made elsewhere, e.g. by a test) only its presence counts.
 */
export function editorBuildStatus(dir: string, repoRoot?: string): EditorBuild {
  if (!existsSync(join(dir, 'index.html'))) {
    return { state: 'missing', dir, problem: `the editor is not built (${dir} has no index.html)` };
  }
  if (repoRoot === undefined) return { state: 'ready', dir };
  const freshness = buildFreshness(dir, repoRoot);
  if (freshness.fresh) return { state: 'ready', dir };
  const problem = freshness.missing
    ? 'the editor build does not list its sources (it was not made by npm install or npm run build)'
    : `the editor build is older than its sources (${freshness.reason} since)`;
  return { state: 'stale', dir, problem };
}

/** The one line `coser serve` prints about a build that is not ready, with the command that fixes it. */
export function editorBuildWarning(build: Exclude<EditorBuild, { state: 'ready' }>): string {
  return build.state === 'missing'
    ? `${build.problem}: run \`${EDITOR_BUILD_COMMAND}\`, then reload the page`
    : `${build.problem}: \`${EDITOR_BUILD_COMMAND}\` rebuilds it (the old build is served until then)`;
}

/** The page `/` answers while the editor is not built: the same line as `coser serve` printed, never JSON. */
export function editorMissingPage(build: Extract<EditorBuild, { state: 'missing' }>): string {
  const html = (text: string) =>
    text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>CoSeR Studio: the editor is not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 48rem; margin: 3rem auto; line-height: 1.5">
<h1>The editor is not built</h1>
<p>${html(build.problem)}.</p>
<p>Build it from the repository root, then reload this page (the server keeps running):</p>
<pre style="background: #eee; padding: 0.75rem"><code>${html(EDITOR_BUILD_COMMAND)}</code></pre>
<p>The API under <code>/api</code> and <code>coser run --server</code> work without it.</p>
</body>
</html>
`;
}
