import { spawn } from 'node:child_process';
import { COSER_BIN, REPO_ROOT } from './paths';

export interface CliResult {
  /** Exit code (null only when killed by a signal). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunCliOptions {
  /** Working folder of the command (default: the repository root). */
  readonly cwd?: string;
  /** Extra environment variables (COSER_DEBUG is cleared unless given, so stderr is what users see). */
  readonly env?: Record<string, string>;
  /** Kill the command after this long (default 60 s): a hanging CLI fails the test instead of the suite. */
  readonly timeoutMs?: number;
}

/**
 * Runs `node packages/server/bin/coser.js ARGS...` as a real child process (stdout/stderr are pipes, not a
 * terminal, so the CLI prints plain lines) and collects its output.
 *
 * @example
 * const { code, stdout } = await runCli(['validate', 'graphs/resize-and-fix.json']);
 */
export function runCli(args: readonly string[], options: RunCliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, COSER_DEBUG: '', NO_COLOR: '1', ...options.env };
    const child = spawn(process.execPath, [COSER_BIN, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Parses NDJSON output: one JSON value per non-empty line (throws, failing the test, on a malformed line). */
export function parseNdjson(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Whether text looks like it holds a JavaScript stack trace ("    at fn (file:line:col)"). */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+(:\d+:\d+\)?|\(node:)/m.test(text);
}
