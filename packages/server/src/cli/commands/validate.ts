import path from 'node:path';
import { checkGraph, type Diagnostic, hasErrors } from '@coser/runtime';
import type { Command } from 'commander';
import { EXIT, formatDiagnostic } from '../errors';
import { loadGraphFile } from '../graph-file';

interface ValidateFlags {
  json?: boolean;
  models?: string;
}

/** `coser validate GRAPH [--json]`: exit 0 valid, 1 invalid, 2 usage error. */
export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('check a graph without running it: structure, params, and that its models are installed')
    .argument('<graph>', 'graph file (.json)')
    .option('--json', 'print { graph, valid, diagnostics } as JSON on stdout')
    .option('--models <dir>', 'models folder (default: $COSER_MODELS_DIR or <repo>/.models)')
    .action(async (graphArg: string, flags: ValidateFlags) => {
      process.exitCode = await validateCommand(graphArg, flags);
    });
}

async function validateCommand(graphArg: string, flags: ValidateFlags): Promise<number> {
  const cwd = process.cwd();
  const loaded = await loadGraphFile(graphArg);
  const diagnostics: Diagnostic[] = [...loaded.diagnostics];
  if (loaded.graph) {
    const { createLocalEnvironment } = await import('../../environment');
    const env = createLocalEnvironment({
      // Nothing is written while validating; node checks only look at inputs and models.
      outputDir: path.join(cwd, 'out'),
      inputRoots: [cwd, path.dirname(loaded.path)],
      ...(flags.models ? { modelsDir: path.resolve(cwd, flags.models) } : {}),
    });
    diagnostics.push(...(await checkGraph(loaded.graph, env.registry, { host: env.host, limits: env.limits })));
  }
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
    for (const diagnostic of diagnostics) out.write(`${formatDiagnostic(diagnostic)}\n`);
    if (diagnostics.length > 0) out.write(`${plural(errors, 'error')}, ${plural(warnings, 'warning')}\n`);
  }
  return valid ? EXIT.ok : EXIT.failed;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
