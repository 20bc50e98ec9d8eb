import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { CoserError, parseParamValue } from '@coser/runtime';
import { InvalidArgumentError } from 'commander';
import { usageError } from './errors';

/** Image files a folder input picks up (by extension, case-insensitive); anything else in the folder is ignored. */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.webp'];

/** One run of a batch: the graph inputs it sets (name -> absolute path) and a label for messages. */
export interface RunItem {
  readonly label: string;
  readonly inputs: Readonly<Record<string, string>>;
}

export interface RunPlan {
  /** One item for plain inputs; one per image (sorted by name) when an input names a folder. */
  readonly items: readonly RunItem[];
  /** Whether an input named a folder (a batch: outputs must be named after each input). */
  readonly batch: boolean;
  /** Folders the host may read from: the folder of each input file, or the input folder itself. */
  readonly inputRoots: readonly string[];
  /** Files an output must never overwrite: every input file, and every file of an input folder. */
  readonly protectedPaths: readonly string[];
}

/** commander option collector for repeatable flags (`--input a=1 --input b=2`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** commander parser of `--max-pixels`: a positive integer, else a usage error. */
export function parsePositiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** Splits `KEY=VALUE` at the first `=`; a missing `=` or empty key is a usage error naming the flag. */
export function splitAssignment(text: string, flag: string, shape: string): [string, string] {
  const at = text.indexOf('=');
  if (at <= 0) throw usageError(`${flag} expects ${shape}, got "${text}"`);
  return [text.slice(0, at), text.slice(at + 1)];
}

/** `--input NAME=PATH` flags -> name -> path as typed (resolved later). A name given twice is a usage error. */
export function parseInputFlags(values: readonly string[]): Record<string, string> {
  const inputs: Record<string, string> = Object.create(null);
  for (const value of values) {
    const [name, file] = splitAssignment(value, '--input', 'NAME=PATH');
    if (name in inputs) throw usageError(`--input ${name} is given twice`);
    if (file === '') throw usageError(`--input ${name}= needs a path`);
    inputs[name] = file;
  }
  return inputs;
}

/**
 * `--set NODE.PARAM=VALUE` flags -> 'node.param' -> parsed value (numbers, booleans, JSON and plain strings, as
 * `parseParamValue` reads them). The node id may itself contain dots, so the param is what follows the last one.
 */
export function parseSetFlags(values: readonly string[]): Record<string, unknown> {
  const sets: Record<string, unknown> = Object.create(null);
  for (const value of values) {
    const [key, text] = splitAssignment(value, '--set', 'NODE.PARAM=VALUE');
    const dot = key.lastIndexOf('.');
    if (dot <= 0 || dot === key.length - 1) throw usageError(`--set expects NODE.PARAM=VALUE, got "${value}"`);
    sets[key] = parseParamValue(text);
  }
  return sets;
}

/**
 * Resolves the `--input` paths against `cwd` and expands a folder into one run per image file in it.
 * At most one input may be a folder (pairing several folders by name would be guesswork).
 */
export async function planRunItems(inputs: Readonly<Record<string, string>>, cwd: string): Promise<RunPlan> {
  const fixed: Record<string, string> = Object.create(null);
  const inputRoots = new Set<string>();
  const protectedPaths = new Set<string>();
  let folder: { name: string; dir: string; files: string[] } | undefined;

  for (const [name, typed] of Object.entries(inputs)) {
    const absolute = path.resolve(cwd, typed);
    const info = await stat(absolute).catch(() => undefined);
    if (!info) throw new CoserError('FILE_NOT_FOUND', `--input ${name}: ${typed} not found`);
    if (info.isDirectory()) {
      if (folder) throw usageError(`--input ${folder.name} and --input ${name} are both folders; give at most one`);
      const entries = await readdir(absolute, { withFileTypes: true });
      const files = entries.filter((e) => e.isFile()).map((e) => e.name);
      const images = files.filter(isImageFileName).sort(compareNames);
      if (images.length === 0) {
        throw new CoserError(
          'FILE_NOT_FOUND',
          `--input ${name}: folder ${typed} has no ${IMAGE_EXTENSIONS.join('/')} images`,
        );
      }
      folder = { name, dir: absolute, files: images };
      inputRoots.add(absolute);
      for (const file of files) protectedPaths.add(path.join(absolute, file));
    } else {
      fixed[name] = absolute;
      inputRoots.add(path.dirname(absolute));
      protectedPaths.add(absolute);
    }
  }

  const items: RunItem[] = folder
    ? folder.files.map((file) => ({ label: file, inputs: { ...fixed, [folder.name]: path.join(folder.dir, file) } }))
    : [
        {
          label:
            Object.values(fixed)
              .map((f) => path.basename(f))
              .join(', ') || 'graph',
          inputs: fixed,
        },
      ];
  return { items, batch: folder !== undefined, inputRoots: [...inputRoots], protectedPaths: [...protectedPaths] };
}

export function isImageFileName(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

/** Byte order, not locale order: the same folder gives the same order on every machine. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
