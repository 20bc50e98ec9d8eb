// A new user's first ten minutes, timed on this machine: `git clone` this repository into a temp folder,
// `npm install` (bundles the CLI, builds the editor, converts the default models), `npx coser serve`, open the URL it
// prints in Chromium (playwright-core, the system Chromium) and press Run on the main job the first visit shows, on
// the server (what the printed URL opens) and then on this device. Prints each step's wall time and the total from
// clone to the first finished run. Only commits are cloned: commit before measuring.
// Run: npm run bench -- first-run [--keep]   (--keep leaves the clone in place and prints where)
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium, REPO_ROOT } from '../test/browser/editor-harness';

const keep = process.argv.includes('--keep');
const work = await mkdtemp(join(tmpdir(), 'coser-first-run-'));
const clone = join(work, 'coser-studio');
const times: [string, number][] = [];
let server: ChildProcess | undefined;

/** Lines a command printed, each with the time since it started (ms). */
type Timeline = [number, string][];

/** Runs a command to completion, timing it; resolves with its output, each line stamped with when it came. */
function timed(label: string, command: string, args: string[], cwd: string): Promise<Timeline> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const lines: Timeline = [];
    const collect = (chunk: string) => {
      output += chunk;
      for (const line of chunk.split('\n')) if (line.trim()) lines.push([performance.now() - started, line.trim()]);
    };
    child.stdout.setEncoding('utf8').on('data', collect);
    child.stderr.setEncoding('utf8').on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => {
      times.push([label, performance.now() - started]);
      if (code === 0) resolve(lines);
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${output.slice(-4000)}`));
    });
  });
}

/** Starts `npx coser serve` and resolves with the editor URL it prints. */
function serve(): Promise<string> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    server = spawn('npx', ['coser', 'serve', '--port', '0', '--data', join(work, 'server-data')], {
      cwd: clone,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, COSER_TOKEN: '' },
    });
    let output = '';
    server.stdout!.setEncoding('utf8').on('data', (c: string) => {
      output += c;
      const url = /^editor: (http\S+#token=\S+)$/m.exec(output)?.[1];
      if (url) {
        times.push(['npx coser serve (until it printed the editor URL)', performance.now() - started]);
        resolve(url);
      } else if (/^editor: /m.test(output)) reject(new Error(`the editor is not served: ${output}`));
    });
    server.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c));
    server.on('close', (code) => reject(new Error(`coser serve exited ${code}: ${output}`)));
  });
}

async function runToEnd(page: Page, label: string): Promise<void> {
  const started = performance.now();
  await page.click('[data-testid=run]');
  await page.waitForFunction(
    () => {
      const status = (window.coserEditor?.runState() as { status: string } | undefined)?.status;
      return status === 'done' || status === 'error' || status === 'cancelled';
    },
    null,
    { timeout: 600_000 },
  );
  const state = (await page.evaluate(() => window.coserEditor!.runState())) as { status: string; error?: unknown };
  if (state.status !== 'done') throw new Error(`${label}: the run ended ${state.status}: ${JSON.stringify(state)}`);
  times.push([label, performance.now() - started]);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

try {
  const head = (await timed('git rev-parse', 'git', ['rev-parse', '--short', 'HEAD'], REPO_ROOT))[0]?.[1] ?? '?';
  times.pop();
  await timed('git clone', 'git', ['clone', '--quiet', '--no-local', REPO_ROOT, clone], work);
  // The postinstall's own lines (`coser: …`) say when the dependencies were in place and each build step ended.
  const install = await timed('npm install', 'npm', ['install', '--no-audit', '--no-fund'], clone);
  const milestones = install.filter(([, line]) => line.startsWith('coser:') || line.startsWith('> postinstall'));
  const url = await serve();

  const launched = performance.now();
  const browser = await launchChromium();
  times.push(['Chromium start', performance.now() - launched]);
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
    const opened = performance.now();
    await page.goto(url);
    await page.waitForSelector('[data-testid=first-visit-hint]');
    await page.waitForFunction(() => document.querySelectorAll('.react-flow__node').length === 3);
    times.push(['page load (URL opened -> main job shown)', performance.now() - opened]);
    await runToEnd(page, 'Run on the server (first run)');

    const total = times.reduce((sum, [, ms]) => sum + ms, 0);
    // On this device: the first local run also downloads the model and compiles onnxruntime-web's WASM.
    await page.click('[data-testid=run-target]');
    await page.locator('.dialog input[name=mode]').nth(0).check();
    await page.click('.dialog button[type=submit]');
    await runToEnd(page, 'Run on this device (first local run, after the above)');

    console.log(`first-run bench: clone of ${head} in ${clone}`);
    for (const [label, ms] of times) console.log(`  ${label.padEnd(56)} ${seconds(ms).padStart(8)}`);
    console.log('  npm install, when each postinstall step ended (since npm install started):');
    for (const [ms, line] of milestones) console.log(`    ${seconds(ms).padStart(8)}  ${line.slice(0, 110)}`);
    console.log(`  ${'total, git clone -> first run finished (server)'.padEnd(56)} ${seconds(total).padStart(8)}`);
  } finally {
    await browser.close();
  }
} finally {
  server?.kill('SIGTERM');
  if (keep) console.log(`kept ${clone}`);
  else await rm(work, { recursive: true, force: true });
}
