import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createImage } from '@coser/runtime';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNodeHost } from '../host/node-host';
import { readEmbeddedGraph, readPngTextChunks } from '../lib/png-text';
import { fakeContext, testGraph, testImage } from '../test-support';
import { expandFilename, saveImage } from './save-image';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'coser-save-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const defaults = saveImage.params.parse({});

function context() {
  return fakeContext({ host: createNodeHost({ inputRoots: [dir], outputDir: dir }), node: 'save' });
}

describe('io.saveImage', () => {
  it('writes a PNG named after the source with the graph and provenance embedded', async () => {
    const image = {
      ...testImage(8, 6),
      meta: {
        sourceName: 'cat',
        models: [{ name: 'esrgan-slim-x4', sha256: 'ab'.repeat(32) }],
        seeds: [7],
        tiles: { size: 512, overlap: 16 },
      },
    };
    const { file } = await saveImage.execute({ image }, defaults, context());
    expect(file).toEqual({ path: path.join(dir, 'cat.png'), format: 'png' });
    const bytes = new Uint8Array(await readFile(file.path));
    expect(readEmbeddedGraph(bytes)).toEqual(testGraph);
    const provenance = JSON.parse(readPngTextChunks(bytes)['coser:provenance']!);
    expect(provenance).toMatchObject({
      graphHash: 'f'.repeat(64),
      nodes: [
        { type: 'io.loadImage', typeVersion: 1 },
        { type: 'io.saveImage', typeVersion: 1 },
      ],
      models: [{ name: 'esrgan-slim-x4', sha256: 'ab'.repeat(32) }],
      seeds: [7],
      tiles: { size: 512, overlap: 16 },
      backend: 'test-backend',
    });
    expect(Number.isNaN(Date.parse(provenance.date))).toBe(false);
  });

  it('writes 16-bit PNG, JPEG and WebP with the right extension', async () => {
    const image = testImage(8, 8);
    const png16 = await saveImage.execute({ image }, { ...defaults, bitDepth: 16 }, context());
    expect((await sharp(png16.file.path).metadata()).depth).toBe('ushort');
    const jpeg = await saveImage.execute({ image }, { ...defaults, format: 'jpeg', filename: '{node}-x' }, context());
    expect(path.basename(jpeg.file.path)).toBe('save-x.jpg');
    expect((await sharp(jpeg.file.path).metadata()).format).toBe('jpeg');
    const webp = await saveImage.execute({ image }, { ...defaults, format: 'webp', quality: 50 }, context());
    expect(path.basename(webp.file.path)).toBe('output.webp');
    expect((await readdir(dir)).sort()).toEqual(['output.png', 'output.webp', 'save-x.jpg']);
  });

  it('expands templates into plain file names', () => {
    const image = createImage(1, 1, 3, undefined, { sourceName: 'photo' });
    expect(expandFilename('{name}_x4', image, 'n1', 'png')).toBe('photo_x4.png');
    expect(expandFilename('{name}.jpeg', image, 'n1', 'jpeg')).toBe('photo.jpeg');
    expect(expandFilename('../{name}', image, 'n1', 'png')).toBe('.._photo.png');
    expect(() => expandFilename('..', image, 'n1', 'png')).toThrow(/empty name/);
  });
});
