import { isIP } from 'node:net';
import { CoserError } from '@coser/runtime';
import type { Command } from 'commander';

interface ServeFlags {
  host: string;
  port: string;
  models?: string;
  data: string;
  allowOrigin: string[];
  concurrency: string;
  queueCap: string;
  redis?: string;
}

/** Time running runs get to finish after SIGTERM/SIGINT before they are marked interrupted. */
const SHUTDOWN_GRACE_MS = 10_000;

function integer(text: string, name: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new CoserError('USAGE', `--${name} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/**
 * `coser serve`: the express + socket.io server (docs/server.md). Prints the URL and the token, runs until SIGTERM or
 * SIGINT, then stops accepting, lets running runs finish for up to 10 s (the rest become `interrupted`), closes the
 * database and exits 0. A second signal exits at once.
 */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run graphs for the editor, `coser run --server` and scripts (REST + socket.io)')
    .option('--host <address>', 'address to bind; anything but loopback is reachable by others', '127.0.0.1')
    .option('--port <n>', 'port (0: any free one)', '8188')
    .option('--models <dir>', 'installed models (default: $COSER_MODELS_DIR or .models in the repository)')
    .option('--data <dir>', 'queue database, token, uploads and run outputs', '.coser/server')
    .option(
      '--allow-origin <url>',
      'a browser origin allowed besides the server’s own (repeatable)',
      (value: string, all: string[]) => [...all, value],
      [] as string[],
    )
    .option('--concurrency <n>', 'runs at a time', '1')
    .option('--queue-cap <n>', 'queued runs at most; more are refused with QUEUE_FULL', '100')
    .option('--redis <url>', 'queue runs in Redis for `coser worker`s instead of running them here (docs/scaling.md)')
    .action(async (flags: ServeFlags) => {
      const port = integer(flags.port, 'port', 0, 65535);
      const concurrency = integer(flags.concurrency, 'concurrency', 1, 64);
      const queueCap = integer(flags.queueCap, 'queue-cap', 1, 100_000);
      for (const origin of flags.allowOrigin) {
        if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
          throw new CoserError('USAGE', `--allow-origin must be an origin like http://localhost:5173, got "${origin}"`);
        }
      }
      const { createServer } = await import('../../server/create-server');
      const { editorBuildWarning } = await import('../../server/editor-build');
      const scaleOut = flags.redis
        ? await (await import('../../scale/redis-server-options')).redisServerOptions({ redisUrl: flags.redis })
        : {};
      const server = await createServer({
        host: flags.host,
        port,
        dataDir: flags.data,
        allowedOrigins: flags.allowOrigin,
        concurrency,
        queueCap,
        ...(flags.models ? { modelsDir: flags.models } : {}),
        ...scaleOut,
      });
      const out = process.stdout;
      out.write(`coser server listening on ${server.url}\n`);
      out.write(
        `token: ${server.token}${server.tokenSource === 'env' ? ' (from COSER_TOKEN)' : ` (stored in ${server.dataDir}/token)`}\n`,
      );
      // The editor's line always carries the URL to open; a missing or stale build adds what to do about it.
      const editorUrl = `${server.url}/#token=${server.token}`;
      if (server.editor?.state === 'missing')
        out.write(`editor: ${editorBuildWarning(server.editor)} (${editorUrl})\n`);
      else if (server.editor) out.write(`editor: ${editorUrl}\n`);
      if (server.editor?.state === 'stale') process.stderr.write(`warning: ${editorBuildWarning(server.editor)}\n`);
      if (server.recovered.resumed.length > 0) out.write(`resuming ${server.recovered.resumed.length} queued run(s)\n`);
      if (!isLoopback(flags.host)) {
        process.stderr.write(
          `warning: bound to ${flags.host}, so other machines can reach this server; anyone with the token can run ` +
            'graphs and read results. Keep the token secret and prefer 127.0.0.1 behind an authenticating proxy.\n',
        );
      }
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: NodeJS.Signals) => {
          if (stopping) {
            process.stderr.write(`${signal} again: exiting now\n`);
            process.exit(130);
          }
          stopping = true;
          process.stderr.write(`${signal}: stopping (running runs get ${SHUTDOWN_GRACE_MS / 1000} s to finish)\n`);
          server.close({ graceMs: SHUTDOWN_GRACE_MS }).then(resolve, (error: unknown) => {
            process.stderr.write(`error INTERNAL: shutdown failed: ${String(error)}\n`);
            process.exitCode = 1;
            resolve();
          });
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
      out.write('coser server stopped\n');
    });
}
