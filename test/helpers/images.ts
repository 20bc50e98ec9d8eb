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

/**
 * A PNG that is only a signature, an IHDR claiming `width` x `height` (8-bit RGB) and IEND: a few dozen bytes that
 * claim e.g. 400 megapixels, for checks that must refuse from the header before decoding.
 */
export function headerOnlyPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(25);
  ihdr.writeUInt32BE(13, 0);
  ihdr.write('IHDR', 4, 'latin1');
  ihdr.writeUInt32BE(width, 8);
  ihdr.writeUInt32BE(height, 12);
  ihdr.set([8, 2, 0, 0, 0], 16);
  const iend = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr, iend]);
}

/** Width and height from a PNG's IHDR chunk, without decoding (throws when the bytes are not a PNG). */
export function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 24 || signature.some((b, i) => bytes[i] !== b)) throw new Error('not a PNG');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
