import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SAMPLES_DIR } from './paths';

/** The two 64 px sample photos committed under graphs/samples. */
export const SAMPLE_NAMES = ['astronaut-lr.png', 'chelsea-lr.png'] as const;

/** Copies sample images into `dir` (as ordinary writable files; the originals are read-only). */
export async function copySamples(dir: string, names: readonly string[] = SAMPLE_NAMES): Promise<string[]> {
  const written: string[] = [];
  for (const name of names) {
    const target = path.join(dir, name);
    await writeFile(target, await readFile(path.join(SAMPLES_DIR, name)));
    written.push(target);
  }
  return written;
}

/** A PNG cut off after its first 120 bytes: a valid signature and header, then nothing (IMAGE_CORRUPT). */
export async function writeTruncatedPng(file: string): Promise<void> {
  const bytes = await readFile(path.join(SAMPLES_DIR, SAMPLE_NAMES[0]));
  await writeFile(file, bytes.subarray(0, 120));
}

/** Width and height from a PNG's IHDR chunk, without decoding (throws when the bytes are not a PNG). */
export function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 24 || signature.some((b, i) => bytes[i] !== b)) throw new Error('not a PNG');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
