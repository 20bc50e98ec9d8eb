import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CoserError } from '@coser/runtime';
import type { Command } from 'commander';
import { EXIT, usageError } from '../errors';

interface ContractSetFlags {
  channels?: string;
  tokens?: string;
  seed?: string;
  force?: boolean;
  json?: boolean;
}

function intFlag(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw usageError(`--${name} must be an integer in [${min}, ${max}], got ${value}`);
  return n;
}

/**
 * `coser models contract-set DIR [--channels N] [--tokens C] [--seed S] [--force]`: writes a tiny random-weight
 * CoSeR model set that fits the ONNX contract (for trying the CoSeR graphs, tests and benchmarks; it restores
 * nothing). Refuses to overwrite a folder holding another model set unless --force.
 *
 * @example
 * registerContractSetCommand(program.commands.find((c) => c.name() === 'models')!);
 * // coser models contract-set .models/coser-contract && coser run graphs/coser-x4.json --models .models/coser-contract ...
 */
export function registerContractSetCommand(modelsCommand: Command): void {
  modelsCommand
    .command('contract-set')
    .description('write a tiny random-weight CoSeR model set that fits the ONNX contract (for tests; restores nothing)')
    .argument('<dir>', 'folder to write (created when missing)')
    .option('--channels <n>', 'feature width of the tiny networks (default 8)')
    .option('--tokens <c>', 'token width C (default 16; the real models use 1024)')
    .option('--seed <s>', 'seed of the random weights (default 0)')
    .option('--force', 'overwrite a folder that holds another model set')
    .option('--json', 'print the manifest as JSON')
    .action(async (dir: string, flags: ContractSetFlags) => {
      process.exitCode = await contractSetCommand(dir, flags);
    });
}

async function contractSetCommand(dir: string, flags: ContractSetFlags): Promise<number> {
  const channels = intFlag(flags.channels, 'channels', 8, 1, 256);
  const tokens = intFlag(flags.tokens, 'tokens', 16, 1, 4096);
  const seed = intFlag(flags.seed, 'seed', 0, 0, 2 ** 32 - 1);
  const target = path.resolve(process.cwd(), dir);
  const { writeContractModelSet } = await import('@coser/nodes/node');
  const { MANIFEST_FILE } = await import('@coser/nodes');
  const existing = await readFile(path.join(target, MANIFEST_FILE), 'utf8').catch(() => undefined);
  if (existing !== undefined && !flags.force) {
    let name: unknown;
    try {
      name = (JSON.parse(existing) as { name?: unknown }).name;
    } catch {
      name = undefined;
    }
    if (name !== 'coser-contract') {
      throw new CoserError(
        'USAGE',
        `${target} already holds a model set (${MANIFEST_FILE}); pass --force to overwrite it`,
      );
    }
  }
  const manifest = await writeContractModelSet(target, { channels, tokens, seed });
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
  } else {
    const files = Object.keys(manifest.files);
    process.stdout.write(
      `wrote a contract model set (${files.length} files + ${MANIFEST_FILE}, channels ${channels}, token width ${tokens}, seed ${seed}) to ${target}\n`,
    );
  }
  return EXIT.ok;
}
