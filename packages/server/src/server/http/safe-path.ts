import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { CoserError } from '@coser/runtime';

/**
 * Resolves a client-supplied file name inside `root`, refusing everything that could leave it: `..` segments (also
 * after percent-decoding, which the router already did once), backslashes, absolute or drive paths, NUL bytes, and
 * symlinks whose real target lies outside. Hidden names (a leading dot: temporaries of atomic writes) are never
 * served. Returns the real path of an existing regular file.
 *
 * Throws CoserError PATH_FORBIDDEN (leaves the folder) or FILE_NOT_FOUND.
 */
export async function resolveInside(root: string, name: string): Promise<string> {
  if (name.length === 0 || name.length > 1024) throw new CoserError('PATH_FORBIDDEN', 'file name is empty or too long');
  // A second decoding layer (%252e%252e) must not turn into dots either: refuse any remaining escapes.
  if (name.includes('\0') || name.includes('\\') || name.includes('%') || isAbsolute(name) || /^[A-Za-z]:/.test(name)) {
    throw new CoserError('PATH_FORBIDDEN', 'file names may not contain NUL, backslashes, escapes or be absolute');
  }
  const parts = name.split('/');
  if (parts.some((part) => part === '..' || part === '.' || part === '')) {
    throw new CoserError('PATH_FORBIDDEN', 'file names may not contain "..", "." or empty segments');
  }
  // Hidden names are temporaries of atomic writes (or not ours to serve): never hand out a half-written file.
  if (parts.some((part) => part.startsWith('.'))) throw new CoserError('FILE_NOT_FOUND', 'no such file');
  const realRoot = await realpath(root).catch(() => {
    throw new CoserError('FILE_NOT_FOUND', 'no such file');
  });
  const candidate = resolve(join(realRoot, ...parts));
  if (!candidate.startsWith(realRoot + sep)) throw new CoserError('PATH_FORBIDDEN', 'the file is outside its folder');
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    throw new CoserError('FILE_NOT_FOUND', 'no such file');
  }
  if (!real.startsWith(realRoot + sep)) throw new CoserError('PATH_FORBIDDEN', 'the file links outside its folder');
  const info = await stat(real);
  if (!info.isFile()) throw new CoserError('FILE_NOT_FOUND', 'not a file');
  return real;
}
