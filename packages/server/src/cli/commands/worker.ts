import { CoserError } from '@coser/runtime';
import type { Command } from 'commander';

interface WorkerFlags {
  redis: string;
  models?: string;
  data: string;
  concurrency: string;
  lockMs: string;
  maxAttempts: string;
}

function integer(text: string, name: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new CoserError('USAGE', `--${name} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

/**
 * `coser worker --redis URL`: executes the runs that `coser serve --redis URL` servers queue, on any machine that
 * reaches Redis and the shared `--data` folder (docs/scaling.md). Prints `coser worker ID ready` once it takes runs.
 * SIGTERM/SIGINT: stop taking runs and finish the running ones; a second signal exits at once (another worker then
 * retries the runs once their lock expires).
 */
export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('execute runs queued by `coser serve --redis` servers (scale-out; see docs/scaling.md)')
    .requiredOption('--redis <url>', 'the Redis the servers use, e.g. redis://10.0.0.5:6379')
    .option('--models <dir>', 'installed models (default: $COSER_MODELS_DIR or .models in the repository)')
    .option(
      '--data <dir>',
      'the shared folder the servers use as --data (uploads in, run outputs out)',
      '.coser/server',
    )
    .option('--concurrency <n>', 'runs at a time on this worker', '1')
    .option('--lock-ms <n>', 'a stopped worker loses its runs to others after this long', '30000')
    .option('--max-attempts <n>', 'executions of one run at most (retries after a worker stopped)', '3')
    .action(async (flags: WorkerFlags) => {
      if (!/^rediss?:\/\//.test(flags.redis)) {
        throw new CoserError('USAGE', `--redis must be a URL like redis://host:6379, got "${flags.redis}"`);
      }
      const concurrency = integer(flags.concurrency, 'concurrency', 1, 64);
      const lockDurationMs = integer(flags.lockMs, 'lock-ms', 500, 3_600_000);
      const maxAttempts = integer(flags.maxAttempts, 'max-attempts', 1, 100);
      const { startRunWorker } = await import('../../scale/run-worker');
      const worker = await startRunWorker({
        redisUrl: flags.redis,
        dataDir: flags.data,
        concurrency,
        lockDurationMs,
        maxAttempts,
        ...(flags.models ? { modelsDir: flags.models } : {}),
      });
      process.stdout.write(`coser worker ${worker.id} ready (concurrency ${concurrency})\n`);
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: NodeJS.Signals) => {
          if (stopping) {
            process.stderr.write(`${signal} again: exiting now\n`);
            process.exit(130);
          }
          stopping = true;
          process.stderr.write(`${signal}: finishing ${worker.running} running run(s); again to exit at once\n`);
          worker.close().then(resolve, (error: unknown) => {
            process.stderr.write(`error INTERNAL: worker shutdown failed: ${String(error)}\n`);
            process.exitCode = 1;
            resolve();
          });
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
      process.stdout.write('coser worker stopped\n');
    });
}
