import { randomUUID } from 'node:crypto';
import { lstat, mkdir, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Host, InputFacts, ResolvedModel } from '@coser/runtime';
import { CoserError } from '@coser/runtime';
import { assertNoControlChars, assertRelativeName, isInside, realpathOrUndefined } from './safe-paths';
import { decodeWithSharp, encodeWithSharp, inspectImageFile } from './sharp-codec';

/**
 * Resolves a model by manifest name to its file and manifest entry (the model store implements it).
 * Throws CoserError MODEL_MISSING (naming the command that installs it), MODEL_CORRUPT or MODEL_FORBIDDEN.
 */
export interface ModelResolver {
  resolve(name: string): Promise<ResolvedModel>;
}

export interface NodeHostOptions {
  /** Folders inputs may be read from (a relative name is looked up in each, in order). */
  readonly inputRoots: readonly string[];
  /**
   * Folders reachable only under a name prefix: `{ samples: 'graphs/samples' }` makes `samples/photo.png` read that
   * folder's photo.png, and nothing outside that folder (the server's bundled sample images: the presets name them
   * so, relative to graphs/). Looked up before `inputRoots`.
   */
  readonly namedInputFolders?: Readonly<Record<string, string>>;
  /** Folder outputs are written to (created when missing). */
  readonly outputDir: string;
  /** Folder of installed models, for CoSeR model-set files (`resolveModelFile`). */
  readonly modelsDir?: string;
  readonly models?: ModelResolver;
  /** Largest input file read, in bytes (default 50 MB). */
  readonly maxInputBytes?: number;
  /** Files an output must never replace (the run's inputs); every file read through `readInput` is added. */
  readonly protectedPaths?: readonly string[];
  /** Replaces the temp-file write, for fault injection in tests (e.g. a disk that fills up). */
  readonly writeFile?: (filePath: string, bytes: Uint8Array) => Promise<void>;
}

/** Model-set files up to this size come with their bytes (JSON manifests, tensors); larger ones by path only. */
const INLINE_MODEL_FILE_BYTES = 64 * 1024 * 1024;

interface FileId {
  readonly dev: number;
  readonly ino: number;
}

/**
 * The Host for the CLI and the server: file access confined to the given folders (real paths, so symbolic links
 * cannot leave them), atomic output writes, and sharp for image codecs.
 *
 * @example
 * const host = createNodeHost({ inputRoots: [process.cwd()], outputDir: 'out', protectedPaths: ['in/photo.png'] });
 * const image = await host.decodeImage(await host.readInput('in/photo.png'), { maxPixels: 64e6 });
 */
export function createNodeHost(options: NodeHostOptions): Host {
  const maxInputBytes = options.maxInputBytes ?? 50 * 1024 * 1024;
  const roots = options.inputRoots.map((r) => path.resolve(r));
  const named = new Map(
    Object.entries(options.namedInputFolders ?? {}).map(([prefix, dir]) => [prefix, path.resolve(dir)]),
  );
  const allRoots = [...named.values(), ...roots];
  const outputDir = path.resolve(options.outputDir);
  const protectedPaths = new Set<string>();
  const protectedIds: FileId[] = [];
  const writeTemp = options.writeFile ?? ((p: string, b: Uint8Array) => writeFile(p, b, { flag: 'wx' }));

  async function protect(p: string): Promise<void> {
    const resolved = path.resolve(p);
    protectedPaths.add(resolved);
    // Never rejects: an unreadable protected path still protects its own name.
    try {
      const real = await realpathOrUndefined(resolved);
      if (real) {
        protectedPaths.add(real);
        const s = await stat(real);
        protectedIds.push({ dev: s.dev, ino: s.ino });
      }
    } catch {}
  }
  const ready = Promise.all((options.protectedPaths ?? []).map(protect));

  /** `samples/photo.png` -> that file in the folder named `samples`, when there is one (PATH_FORBIDDEN if it leaves). */
  function inNamedFolder(name: string): string | undefined {
    const slash = name.indexOf('/');
    if (slash <= 0 || path.isAbsolute(name)) return undefined;
    const folder = named.get(name.slice(0, slash));
    if (!folder) return undefined;
    const target = path.resolve(folder, name.slice(slash + 1));
    if (!isInside(folder, target)) {
      throw new CoserError('PATH_FORBIDDEN', `input ${JSON.stringify(name)} leaves the folder it names`);
    }
    return target;
  }

  /** The real path an input name leads to, after every path rule (PATH_FORBIDDEN / FILE_NOT_FOUND). */
  async function resolveInput(name: string): Promise<string> {
    if (typeof name !== 'string' || name.length === 0) {
      throw new CoserError('FILE_NOT_FOUND', 'no input file was given');
    }
    assertNoControlChars(name, 'input path');
    const inFolder = inNamedFolder(name);
    const candidates = path.isAbsolute(name)
      ? roots.filter((r) => isInside(r, path.resolve(name))).map(() => path.resolve(name))
      : [
          ...(inFolder ? [inFolder] : []),
          ...roots.map((r) => path.resolve(r, name)).filter((p, i) => isInside(roots[i]!, p)),
        ];
    if (candidates.length === 0) {
      throw new CoserError('PATH_FORBIDDEN', `input ${JSON.stringify(name)} is outside the allowed input folders`);
    }
    let real: string | undefined;
    for (const candidate of candidates) {
      real = await realpathOrUndefined(candidate);
      if (real) break;
    }
    if (!real) throw new CoserError('FILE_NOT_FOUND', `input file ${JSON.stringify(name)} does not exist`);
    const realRoots = (await Promise.all(allRoots.map(realpathOrUndefined))).filter((r) => r !== undefined);
    if (!realRoots.some((r) => isInside(r, real))) {
      throw new CoserError(
        'PATH_FORBIDDEN',
        `input ${JSON.stringify(name)} leads (through a link) outside the allowed input folders`,
      );
    }
    return real;
  }

  async function readInput(name: string, readOptions?: { maxBytes?: number }): Promise<Uint8Array> {
    const real = await resolveInput(name);
    const limit = Math.min(readOptions?.maxBytes ?? maxInputBytes, maxInputBytes);
    const handle = await open(real, 'r').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EACCES' || error.code === 'EPERM') {
        throw new CoserError('PATH_FORBIDDEN', `input ${JSON.stringify(name)} is not readable`, {}, { cause: error });
      }
      throw error;
    });
    try {
      // Size checked on the open handle, so the file read is the file checked.
      assertReadableFile(name, await handle.stat(), limit);
      const bytes = new Uint8Array(await handle.readFile());
      if (bytes.length > limit) {
        throw new CoserError('FILE_TOO_LARGE', `input ${JSON.stringify(name)} grew past the limit of ${limit} bytes`);
      }
      await protect(real);
      return bytes;
    } finally {
      await handle.close();
    }
  }

  async function inspectInput(name: string): Promise<InputFacts> {
    const real = await resolveInput(name);
    const handle = await open(real, 'r');
    try {
      const info = await handle.stat();
      assertReadableFile(name, info, maxInputBytes);
      // The first kilobyte says the format (as decodeImage sniffs it); the header read goes no further.
      const head = new Uint8Array(Math.min(1024, info.size));
      await handle.read(head, 0, head.length, 0);
      return { bytes: info.size, ...(await inspectImageFile(real, head)) };
    } finally {
      await handle.close();
    }
  }

  async function writeOutput(name: string, bytes: Uint8Array): Promise<string> {
    assertRelativeName(name, 'output name', { allowSubfolders: false });
    await ready;
    await mkdir(outputDir, { recursive: true });
    const realOut = (await realpathOrUndefined(outputDir)) ?? outputDir;
    const target = path.join(realOut, name);
    const existing = await lstat(target).catch(() => undefined);
    if (existing?.isSymbolicLink()) {
      throw new CoserError(
        'PATH_FORBIDDEN',
        `output ${JSON.stringify(name)} is a symbolic link; refusing to write through it`,
      );
    }
    if (existing && !existing.isFile()) {
      throw new CoserError('PATH_FORBIDDEN', `output ${JSON.stringify(name)} exists and is not a file`);
    }
    const sameFile = existing && protectedIds.some((id) => id.dev === existing.dev && id.ino === existing.ino);
    if (protectedPaths.has(target) || protectedPaths.has(path.join(outputDir, name)) || sameFile) {
      throw new CoserError(
        'OUTPUT_OVERWRITES_INPUT',
        `output ${JSON.stringify(name)} would overwrite an input of this run`,
      );
    }
    // The temp name does not grow with `name`, so a long valid name never fails on the temp file.
    const temp = path.join(realOut, `.coser-${randomUUID()}.tmp`);
    try {
      await writeTemp(temp, bytes);
      await rename(temp, target);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') {
        throw new CoserError(
          'DISK_FULL',
          `no space left to write ${JSON.stringify(name)}; nothing was written`,
          {},
          { cause: error },
        );
      }
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
        throw new CoserError('PATH_FORBIDDEN', `the output folder is not writable (${code})`, {}, { cause: error });
      }
      throw error;
    }
    return target;
  }

  async function resolveModel(name: string): Promise<ResolvedModel> {
    if (!options.models) {
      throw new CoserError(
        'MODEL_MISSING',
        `model ${JSON.stringify(name)} is not installed (install it with: coser models add ${name})`,
      );
    }
    return options.models.resolve(name);
  }

  async function resolveModelFile(set: string, file: string): Promise<ResolvedModel> {
    // '.' is the models folder itself: `coser run --models DIR` points straight at one model set.
    if (set !== '.') assertRelativeName(set, 'model set name', { allowSubfolders: false });
    assertRelativeName(file, 'model file name', { allowSubfolders: true });
    const name = set === '.' ? file : `${set}/${file}`;
    const realModels = options.modelsDir ? await realpathOrUndefined(path.resolve(options.modelsDir)) : undefined;
    if (!realModels) {
      throw new CoserError('MODEL_MISSING', `model set ${JSON.stringify(set)} is not installed (no models folder)`);
    }
    const real = await realpathOrUndefined(path.join(realModels, set, file));
    if (!real) {
      throw new CoserError(
        'MODEL_MISSING',
        `model file ${name} is not installed (install the set with: coser models add ${set})`,
      );
    }
    if (!isInside(realModels, real)) {
      throw new CoserError('PATH_FORBIDDEN', `model file ${name} leads (through a link) outside the models folder`);
    }
    const info = await stat(real);
    if (!info.isFile()) throw new CoserError('MODEL_MISSING', `model file ${name} is not a file`);
    const bytes = info.size <= INLINE_MODEL_FILE_BYTES ? new Uint8Array(await readFile(real)) : undefined;
    return {
      source: {
        key: `${real}:${info.size}:${info.mtimeMs}`,
        name,
        path: real,
        sizeBytes: info.size,
        ...(bytes ? { bytes } : {}),
      },
      entry: {},
    };
  }

  return {
    readInput,
    inspectInput,
    writeOutput,
    decodeImage: decodeWithSharp,
    encodeImage: encodeWithSharp,
    resolveModel,
    resolveModelFile,
  };
}

function assertReadableFile(name: string, info: { isFile(): boolean; size: number }, limit: number): void {
  if (!info.isFile()) throw new CoserError('FILE_NOT_FOUND', `input ${JSON.stringify(name)} is not a file`);
  if (info.size > limit) {
    throw new CoserError(
      'FILE_TOO_LARGE',
      `input ${JSON.stringify(name)} is ${info.size} bytes, over the limit of ${limit}`,
    );
  }
}
