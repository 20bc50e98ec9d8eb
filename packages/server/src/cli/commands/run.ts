import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ModelStore } from '@coser/nodes/node';
import {
  applyGraphInputs,
  type CatalogEntry,
  CoserError,
  type Diagnostic,
  type GraphFile,
  hasErrors,
  validateGraph,
} from '@coser/runtime';
import type { Command } from 'commander';
import { EXIT, usageError } from '../errors';
import { type LoadedGraphFile, loadGraphFile } from '../graph-file';
import { createJsonReporter } from '../reporters/json-reporter';
import { createPlainReporter } from '../reporters/plain-reporter';
import type { ItemOutcome, ReporterStreams, RunReporter } from '../reporters/types';
import { fixedOutputNames, runBatch } from '../run-batch';
import {
  collect,
  parseInputFlags,
  parsePositiveInteger,
  parseSetFlags,
  planRunItems,
  type RunPlan,
} from '../run-inputs';

interface RunFlags {
  input: string[];
  set: string[];
  output: string;
  models?: string;
  json?: boolean;
  maxPixels?: number;
  server?: string;
  token?: string;
  installModels?: boolean;
}

/** `coser run GRAPH [--input NAME=PATH]... [--set NODE.PARAM=VALUE]... [--output DIR] ...` */
export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run a graph headless; an --input naming a folder runs the graph once per image in it')
    .argument('<graph>', 'graph file (.json)')
    .option('-i, --input <name=path>', 'set a graph input to a file or a folder of images (repeatable)', collect, [])
    .option('-s, --set <node.param=value>', 'set any node param, e.g. --set resize.scale=2 (repeatable)', collect, [])
    .option('-o, --output <dir>', 'folder for output files', 'out')
    .option('--models <dir>', 'models folder (default: $COSER_MODELS_DIR or <repo>/.models)')
    .option('--json', 'print every run event as one JSON object per line (NDJSON) on stdout')
    .option('--max-pixels <n>', 'largest image (width x height) a node may read or produce', parsePositiveInteger)
    .option('--server <url>', 'run on a coser server instead of here (inputs are uploaded, outputs downloaded)')
    .option('--token <token>', 'the server token (default: $COSER_TOKEN)')
    .option('--install-models', 'first install the catalogue models the graph names that are not installed yet')
    .action(async (graph: string, flags: RunFlags) => {
      process.exitCode = await runCommand(graph, flags);
    });
}

async function runCommand(graphArg: string, flags: RunFlags): Promise<number> {
  const cwd = process.cwd();
  const streams: ReporterStreams = { out: process.stdout, err: process.stderr };
  // Malformed flags are usage errors: report them before touching any file.
  const sets = parseSetFlags(flags.set);
  const inputs = parseInputFlags(flags.input);
  const token = flags.token ?? process.env['COSER_TOKEN'];
  if (flags.server !== undefined) {
    if (flags.models !== undefined || flags.maxPixels !== undefined || flags.installModels) {
      throw usageError(
        '--models, --max-pixels and --install-models set up local runs; a server uses its own (install there with its editor or POST /api/models/NAME/install)',
      );
    }
    if (!token) throw usageError('--server needs --token TOKEN (or COSER_TOKEN); `coser serve` prints it');
  }

  const outputDir = path.resolve(cwd, flags.output);
  if ((await stat(outputDir).catch(() => undefined))?.isDirectory() === false) {
    throw new CoserError('PATH_FORBIDDEN', `--output ${flags.output} is a file, not a folder`);
  }

  const loaded = await loadGraphFile(graphArg);
  const reporter = await createReporter(flags, streams, cwd);
  if (!loaded.graph) return invalid(loaded.diagnostics, reporter, graphArg);
  const plan = await planRunItems(inputs, cwd);
  if (plan.batch && !flags.json) {
    for (const param of fixedOutputNames(loaded.graph)) {
      streams.err.write(`warning: ${param} has no {name}: every image of the folder writes the same file\n`);
    }
  }

  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    // First Ctrl-C cancels cleanly (the run stops between tiles/steps); a second one leaves at once.
    if (interrupts > 1) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    let outcomes: ItemOutcome[];
    if (flags.server !== undefined && token) {
      // socket.io-client is only loaded for remote runs.
      const { runRemoteBatch } = await import('../remote/remote-batch');
      outcomes = await runRemoteBatch({
        url: flags.server,
        token,
        graph: loaded.graph,
        items: plan.items,
        sets,
        reporter,
        signal: controller.signal,
        outputDir,
        protectedPaths: [...plan.protectedPaths, loaded.path],
      });
    } else {
      const local = { graphArg, flags, loaded: { ...loaded, graph: loaded.graph }, plan, sets, reporter, outputDir };
      outcomes = await runLocal(local, controller);
    }
    reporter.finish(outcomes);
    if (controller.signal.aborted) return 130;
    return outcomes.every((o) => o.status === 'done') ? EXIT.ok : EXIT.failed;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

interface LocalRun {
  readonly graphArg: string;
  readonly flags: RunFlags;
  readonly loaded: LoadedGraphFile & { graph: GraphFile };
  readonly plan: RunPlan;
  readonly sets: Record<string, unknown>;
  readonly reporter: RunReporter;
  readonly outputDir: string;
}

async function runLocal(run: LocalRun, controller: AbortController): Promise<ItemOutcome[]> {
  const { flags, loaded, plan, sets, reporter } = run;
  const cwd = process.cwd();
  const first = plan.items[0];
  if (!first) throw new CoserError('INTERNAL', 'no run was planned');
  // The environment (sharp, the model store) is imported only now: `coser run --help` and usage errors stay fast.
  const [{ createLocalEnvironment, defaultModelsDir }, { createModelStore }] = await Promise.all([
    import('../../environment'),
    import('@coser/nodes/node'),
  ]);
  // One store for the installs and the run, so each model file is hashed once.
  const store = createModelStore(flags.models ? path.resolve(cwd, flags.models) : defaultModelsDir());
  const env = createLocalEnvironment({
    outputDir: run.outputDir,
    inputRoots: [...plan.inputRoots, cwd, path.dirname(loaded.path)],
    protectedPaths: [...plan.protectedPaths, loaded.path],
    modelsDir: store.dir,
    models: store,
    ...(flags.maxPixels ? { limits: { maxPixels: flags.maxPixels } } : {}),
  });

  // Problems shared by every run are reported once, before any run: flags naming unknown inputs or params
  // (usage, exit 2) and a graph that is structurally invalid (exit 1).
  const applied = applyGraphInputs(loaded.graph, { inputs: first.inputs, set: sets, registry: env.registry });
  if (hasErrors(applied.diagnostics)) {
    reporter.onDiagnostics(first, applied.diagnostics);
    throw usageError('--input/--set do not fit the graph (listed above)');
  }
  const structural = validateGraph(applied.graph, env.registry);
  if (hasErrors(structural)) return invalid(structural, reporter, run.graphArg);
  if (flags.installModels) await installGraphModels(applied.graph, env.registry.catalog(), store);
  try {
    return await runBatch({ graph: loaded.graph, items: plan.items, sets, env, reporter, signal: controller.signal });
  } finally {
    await env.backend.releaseAll();
  }
}

/**
 * `--install-models`: installs each catalogue model the graph names that is not installed yet, as
 * `coser models add` does (progress lines on stderr), before anything runs. Names outside the catalogue are left to
 * validation (MODEL_MISSING names the import command).
 */
async function installGraphModels(graph: GraphFile, catalog: CatalogEntry[], store: ModelStore): Promise<void> {
  const { findCatalogueEntry, graphModelRefs } = await import('@coser/nodes');
  const names = [...new Set(graphModelRefs(graph, catalog).map((ref) => ref.model))];
  for (const name of names) {
    if (!findCatalogueEntry(name) || (await store.get(name))) continue;
    process.stderr.write(`coser: installing ${name} (named by the graph, not installed in ${store.dir})\n`);
    await store.add(name, { log: (line) => process.stderr.write(`coser: ${line}\n`) });
  }
}

/** Prints an invalid graph's diagnostics, then fails with the first error's code (exit 1). */
function invalid(diagnostics: readonly Diagnostic[], reporter: RunReporter, graphArg: string): never {
  reporter.onDiagnostics({ label: graphArg, inputs: {} }, diagnostics);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const first = errors[0];
  throw new CoserError(
    first?.code ?? 'GRAPH_INVALID',
    `${graphArg} is not a valid graph (${errors.length} error${errors.length === 1 ? '' : 's'}, listed above)`,
  );
}

async function createReporter(flags: RunFlags, streams: ReporterStreams, cwd: string): Promise<RunReporter> {
  if (flags.json) return createJsonReporter(streams);
  if (process.stderr.isTTY) {
    // cli-progress is only loaded when a terminal will show it.
    const { createTtyReporter } = await import('../reporters/tty-reporter');
    return createTtyReporter(streams, cwd);
  }
  return createPlainReporter(streams, cwd);
}
