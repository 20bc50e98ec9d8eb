// `coser models contract-set DIR` (as a child process, and registered in-process on a bare `models` command) and
// `coser run graphs/coser-x4.json --models DIR` as a real child process.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createNodeHost } from '@coser/nodes/node';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectModelSet } from '../packages/nodes/src/coser/model-set';
import { registerContractSetCommand } from '../packages/server/src/cli/commands/contract-set';
import { pngSize } from './helpers/images';
import { GRAPHS_DIR, SAMPLES_DIR } from './helpers/paths';
import { hasStackTrace, runCli } from './helpers/run-cli';
import { makeTempDir } from './helpers/temp-dir';

let dir = '';
let remove: () => Promise<void> = async () => {};
beforeAll(async () => {
  ({ dir, remove } = await makeTempDir('coser-cli-set-'));
});
afterAll(() => remove());

async function contractSet(...args: string[]): Promise<void> {
  const models = new Command('models').exitOverride();
  registerContractSetCommand(models);
  await models.parseAsync(['contract-set', ...args], { from: 'user' });
}

describe('coser models contract-set', () => {
  it('writes a model set that passes the contract check', async () => {
    const target = path.join(dir, 'models', 'contract');
    // Through the real command line (commands/models.ts registers the subcommand).
    const result = await runCli(['models', 'contract-set', target, '--channels', '4', '--tokens', '8', '--seed', '3'], {
      cwd: dir,
    });
    expect(hasStackTrace(result.stderr), result.stderr).toBe(false);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('wrote a contract model set');
    const host = createNodeHost({
      inputRoots: [dir],
      outputDir: path.join(dir, 'out'),
      modelsDir: path.join(dir, 'models'),
    });
    const { manifest, diagnostics } = await inspectModelSet(host, 'contract');
    expect(diagnostics).toEqual([]);
    expect(manifest?.tokenWidth).toBe(8);
    // Regenerating a contract set in place is fine.
    await contractSet(target);
  });

  it('refuses to overwrite another model set without --force, and bad numbers', async () => {
    const target = path.join(dir, 'real-set');
    await mkdir(target, { recursive: true });
    await writeFile(path.join(target, 'coser-set.json'), JSON.stringify({ name: 'my-export' }));
    await expect(contractSet(target)).rejects.toMatchObject({ code: 'USAGE' });
    expect(JSON.parse(await readFile(path.join(target, 'coser-set.json'), 'utf8')).name).toBe('my-export');
    await expect(contractSet(path.join(dir, 'x'), '--tokens', '0')).rejects.toMatchObject({ code: 'USAGE' });
    await contractSet(target, '--force');
    expect(JSON.parse(await readFile(path.join(target, 'coser-set.json'), 'utf8')).name).toBe('coser-contract');
  });
});

describe('coser run with a CoSeR preset', () => {
  it('runs graphs/coser-x4.json with --models pointing at a contract set and writes the x4 image', async () => {
    const models = path.join(dir, 'run-models');
    await contractSet(path.join(models, 'contract'));
    const result = await runCli(
      [
        'run',
        path.join(GRAPHS_DIR, 'coser-x4.json'),
        '--models',
        path.join(models, 'contract'),
        '--set',
        'reference.steps=3',
        '--set',
        'restore.steps=3',
        '--input',
        `image=${path.join(SAMPLES_DIR, 'chelsea-lr.png')}`,
        '--output',
        path.join(dir, 'out'),
      ],
      { cwd: dir, timeoutMs: 120_000 },
    );
    expect(hasStackTrace(result.stderr), result.stderr).toBe(false);
    expect(result.code, result.stderr).toBe(0);
    const png = new Uint8Array(await readFile(path.join(dir, 'out', 'chelsea-lr-coser-x4.png')));
    expect(pngSize(png)).toEqual({ width: 256, height: 256 });
    // The outputs summary says what the contract set's pixels are worth.
    expect(result.stdout).toMatch(/note: made by contract models .*meaningless by design/);
  });

  it('stops at validation without a model set, naming the files and the docs (exit 1)', async () => {
    const result = await runCli(
      [
        'run',
        path.join(GRAPHS_DIR, 'coser-x4.json'),
        '--models',
        path.join(dir, 'no-models'),
        '--input',
        `image=${path.join(SAMPLES_DIR, 'chelsea-lr.png')}`,
        '--output',
        path.join(dir, 'out-none'),
      ],
      { cwd: dir },
    );
    expect(result.code).toBe(1);
    expect(result.stderr + result.stdout).toContain('MODEL_MISSING');
    expect(result.stderr + result.stdout).toContain('docs/coser.md');
  });
});
