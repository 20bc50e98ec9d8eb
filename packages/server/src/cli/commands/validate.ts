import path from 'node:path';
import {
  applyGraphInputs,
  checkGraph,
  type Diagnostic,
  type GraphFile,
  hasErrors,
  validateGraph,
} from '@coser/runtime';
import type { Command } from 'commander';
import { EXIT, formatDiagnostic, usageError } from '../errors';
import { loadGraphFile } from '../graph-file';
import {
  collect,
  parseInputFlags,
  parsePositiveInteger,
  parseSetFlags,
  planRunItems,
  type RunItem,
} from '../run-inputs';

interface ValidateFlags {
  input: string[];
  set: string[];
  json?: boolean;
  models?: string;
  maxPixels?: number;
}

/** A diagnostic of one input of a folder check (`input`: the image's file name). */
type ItemDiagnostic = Diagnostic & { input?: string };

/** `coser validate GRAPH [--input NAME=PATH]... [--set NODE.PARAM=VALUE]... [--json]`: exit 0 valid, 1 invalid, 2 usage error. */
export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description(
      'check a graph without running it: structure, params, models installed, input files there and sizes within ' +
        'the pixel cap (with --input/--set as `coser run` takes them)',
    )
    .argument('<graph>', 'graph file (.json)')
    .option('-i, --input <name=path>', 'check with a graph input set to a file or every image of a folder', collect, [])
    .option('-s, --set <node.param=value>', 'check with a node param set, e.g. --set resize.scale=2', collect, [])
    .option('--json', 'print { graph, valid, diagnostics } as JSON on stdout')
    .option('--models <dir>', 'models folder (default: $COSER_MODELS_DIR or <repo>/.models)')
    .option('--max-pixels <n>', 'largest image (width x height) a node may read or produce', parsePositiveInteger)
    .action(async (graphArg: string, flags: ValidateFlags) => {
      process.exitCode = await validateCommand(graphArg, flags);
    });
}

async function validateCommand(graphArg: string, flags: ValidateFlags): Promise<number> {
  const cwd = process.cwd();
  const sets = parseSetFlags(flags.set);
  const inputs = parseInputFlags(flags.input);
  const loaded = await loadGraphFile(graphArg);
  const diagnostics: ItemDiagnostic[] = [...loaded.diagnostics];
  if (loaded.graph) diagnostics.push(...(await checkEveryItem(loaded.graph, loaded.path, inputs, sets, flags, cwd)));
  const valid = loaded.graph !== undefined && !hasErrors(diagnostics);

  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ graph: graphArg, valid, diagnostics })}\n`);
  } else {
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    const warnings = diagnostics.length - errors;
    const summary = loaded.graph
      ? `${loaded.graph.nodes.length} nodes, ${loaded.graph.edges.length} edges`
      : 'could not be loaded';
    const out = valid ? process.stdout : process.stderr;
    out.write(`${graphArg}: ${valid ? 'valid' : 'invalid'} (${summary})\n`);
    for (const d of diagnostics) out.write(`${d.input ? `${d.input}: ` : ''}${formatDiagnostic(d)}\n`);
    if (diagnostics.length > 0) out.write(`${plural(errors, 'error')}, ${plural(warnings, 'warning')}\n`);
  }
  return valid ? EXIT.ok : EXIT.failed;
}

/**
 * Checks the graph as each run of `coser run` with the same flags would start: once, or once per image when an
 * --input names a folder (its diagnostics then carry the image's name). An input or param the graph does not have
 * is a usage error, as for run.
 */
async function checkEveryItem(
  graph: GraphFile,
  graphPath: string,
  inputs: Record<string, string>,
  sets: Record<string, unknown>,
  flags: ValidateFlags,
  cwd: string,
): Promise<ItemDiagnostic[]> {
  const plan = await planRunItems(inputs, cwd);
  // The environment (sharp, the model store) is imported only now, so usage errors stay fast.
  const { createLocalEnvironment } = await import('../../environment');
  const env = createLocalEnvironment({
    // Nothing is written while validating; node checks only look at inputs and models.
    outputDir: path.join(cwd, 'out'),
    inputRoots: [...plan.inputRoots, cwd, path.dirname(graphPath)],
    ...(flags.models ? { modelsDir: path.resolve(cwd, flags.models) } : {}),
    ...(flags.maxPixels ? { limits: { maxPixels: flags.maxPixels } } : {}),
  });
  const found: ItemDiagnostic[] = [];
  // What the graph's structure gets wrong is the same for every image: said once, as `coser run` does.
  let structural: Set<string> | undefined;
  for (const item of plan.items) {
    const applied = applyGraphInputs(graph, { inputs: item.inputs, set: sets, registry: env.registry });
    if (hasErrors(applied.diagnostics)) {
      for (const d of applied.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
      throw usageError('--input/--set do not fit the graph (listed above)');
    }
    if (!structural) {
      const shared = validateGraph(applied.graph, env.registry);
      if (hasErrors(shared)) return shared;
      found.push(...shared);
      structural = new Set(shared.map(diagnosticKey));
    }
    const checked = await checkGraph(applied.graph, env.registry, { host: env.host, limits: env.limits });
    for (const d of checked) if (!structural.has(diagnosticKey(d))) found.push(withItem(d, item, plan.batch));
  }
  return found;
}

function diagnosticKey(d: Diagnostic): string {
  return JSON.stringify([d.code, d.node, d.port, d.param, d.message]);
}

function withItem(diagnostic: Diagnostic, item: RunItem, batch: boolean): ItemDiagnostic {
  return batch ? { ...diagnostic, input: item.label } : diagnostic;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
