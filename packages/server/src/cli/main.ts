import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerModelsCommand } from './commands/models';
import { registerNodesCommand } from './commands/nodes';
import { registerRunCommand } from './commands/run';
import { registerServeCommand } from './commands/serve';
import { registerValidateCommand } from './commands/validate';
import { registerWorkerCommand } from './commands/worker';
import { EXIT, exitCodeFor, formatError } from './errors';

/**
 * Builds the `coser` program. Each command lives in its own file under `commands/` and registers itself here;
 * commander's own errors (unknown option, missing argument) are turned into exit code 2 instead of exiting.
 */
export function createProgram(): Command {
  const program = new Command('coser')
    .description('CoSeR Studio: run, validate and inspect image-restoration graphs headless')
    .version(readVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      // Commander prefixes its messages with "error: "; ours name a code so scripts can match on it.
      outputError: (message, write) => write(`error USAGE: ${message.replace(/^error: /, '')}`),
    });

  registerRunCommand(program);
  registerValidateCommand(program);
  registerNodesCommand(program);
  // Commands owned by other parts of the project register here, one line each:
  registerModelsCommand(program);
  registerServeCommand(program);
  registerWorkerCommand(program);

  return program;
}

/**
 * Runs the command line and returns the process exit code: 0 ok, 1 a run failed or a graph is invalid,
 * 2 a usage error. Never prints a stack trace unless COSER_DEBUG=1.
 */
export async function main(argv: readonly string[]): Promise<number> {
  process.exitCode = undefined;
  try {
    await createProgram().parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version "exit" with 0 through the same path as real usage errors.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    process.stderr.write(`${formatError(error)}\n`);
    return exitCodeFor(error);
  }
}

function readVersion(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    if (pkg && typeof pkg === 'object' && 'version' in pkg && typeof pkg.version === 'string') return pkg.version;
  } catch {
    // The version is cosmetic; a missing package.json must not stop the command line.
  }
  return '0.0.0';
}
