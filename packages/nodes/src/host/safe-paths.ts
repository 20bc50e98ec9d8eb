import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { CoserError } from '@coser/runtime';

/** Whether `child` is `parent` or lies below it (both absolute and normalised). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  // `..foo` is a legitimate name inside; only a whole `..` segment leaves.
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** Refuses NUL bytes and other control characters, which no legitimate file name contains. */
export function assertNoControlChars(name: string, what: string): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  if (/[\u0000-\u001f]/.test(name)) {
    throw new CoserError('PATH_FORBIDDEN', `${what} contains a NUL or control character`);
  }
}

/**
 * Checks a relative name made of `/`-separated segments: no absolute path, no drive letter, no backslash, no
 * empty, `.` or `..` segment. A name like `a..b.png` is fine; `%2e%2e%2f` is taken literally (never URL-decoded).
 */
export function assertRelativeName(name: string, what: string, options: { allowSubfolders: boolean }): void {
  assertNoControlChars(name, what);
  if (name.length === 0) throw new CoserError('PATH_FORBIDDEN', `${what} is empty`);
  if (name.length > 1024) throw new CoserError('PATH_FORBIDDEN', `${what} is longer than 1024 characters`);
  if (path.isAbsolute(name) || /^[a-zA-Z]:/.test(name) || name.includes('\\')) {
    throw new CoserError('PATH_FORBIDDEN', `${what} ${JSON.stringify(name)} must be a relative name`);
  }
  const segments = name.split('/');
  if (!options.allowSubfolders && segments.length > 1) {
    throw new CoserError('PATH_FORBIDDEN', `${what} ${JSON.stringify(name)} must be a plain file name (no folders)`);
  }
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw new CoserError('PATH_FORBIDDEN', `${what} ${JSON.stringify(name)} must stay inside its folder`);
    }
    // File systems cap a name at 255 bytes; say so instead of failing with ENAMETOOLONG.
    if (new TextEncoder().encode(segment).length > 255) {
      throw new CoserError('PATH_FORBIDDEN', `${what} has a part longer than 255 bytes`);
    }
  }
}

/** realpath, or undefined when the path does not exist. */
export async function realpathOrUndefined(p: string): Promise<string | undefined> {
  try {
    return await realpath(p);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') {
      return undefined;
    }
    throw error;
  }
}
