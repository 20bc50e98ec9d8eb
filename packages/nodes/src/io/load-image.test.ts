import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CoserError } from '@coser/runtime';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeHost } from '../host/node-host';
import { encodeWithSharp } from '../host/sharp-codec';
import { fakeContext, testImage } from '../test-support';
import { baseNameWithoutExtension, loadImage } from './load-image';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'coser-load-'));
  await mkdir(path.join(dir, 'in'));
  await writeFile(path.join(dir, 'in', 'cat.final.png'), await encodeWithSharp(testImage(12, 10), 'png'));
  await writeFile(path.join(dir, 'in', 'fake.png'), '<html><body>not an image</body></html>');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function context(maxPixels = 1e6) {
  return fakeContext({
    host: createNodeHost({ inputRoots: [path.join(dir, 'in')], outputDir: path.join(dir, 'out') }),
    limits: { maxPixels },
  });
}

describe('io.loadImage', () => {
  it('decodes the file and names it after its base name', async () => {
    const { image } = await loadImage.execute({}, { path: 'cat.final.png' }, context());
    expect([image.width, image.height, image.channels]).toEqual([12, 10, 3]);
    expect(image.meta?.sourceName).toBe('cat.final');
  });

  it('applies the pixel cap from the limits and the host path checks', async () => {
    const tooLarge = await loadImage.execute({}, { path: 'cat.final.png' }, context(100)).catch((e: unknown) => e);
    expect((tooLarge as CoserError).code).toBe('IMAGE_TOO_LARGE');
    const outside = await loadImage.execute({}, { path: '../x.png' }, context()).catch((e: unknown) => e);
    expect((outside as CoserError).code).toBe('PATH_FORBIDDEN');
    const html = await loadImage.execute({}, { path: 'fake.png' }, context()).catch((e: unknown) => e);
    expect((html as CoserError).code).toBe('IMAGE_UNSUPPORTED');
  });

  it('reports an empty path at check time and at run time', async () => {
    const diagnostics = await loadImage.check!({ path: '  ' }, context());
    expect(diagnostics).toEqual([expect.objectContaining({ code: 'INPUT_UNCONNECTED', param: 'path' })]);
    expect(await loadImage.check!({ path: 'cat.final.png' }, context())).toEqual([]);
    const error = await loadImage.execute({}, { path: '' }, context()).catch((e: unknown) => e);
    expect((error as CoserError).code).toBe('INPUT_UNCONNECTED');
  });

  it('names a missing or forbidden file at check time, through the host’s path rules', async () => {
    expect(await loadImage.check!({ path: 'a.png' }, context())).toEqual([
      expect.objectContaining({ severity: 'error', code: 'FILE_NOT_FOUND', param: 'path' }),
    ]);
    expect(await loadImage.check!({ path: '../x.png' }, context())).toEqual([
      expect.objectContaining({ code: 'PATH_FORBIDDEN', param: 'path' }),
    ]);
    expect(await loadImage.check!({ path: '.' }, context())).toEqual([
      expect.objectContaining({ code: 'FILE_NOT_FOUND', message: expect.stringContaining('not a file') }),
    ]);
  });

  it('reports the image size from the header at check time, as decoding will give it (EXIF rotation)', async () => {
    const rotated = await sharp(await encodeWithSharp(testImage(12, 10), 'jpeg'))
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    await writeFile(path.join(dir, 'in', 'portrait.jpg'), rotated);
    for (const [file, expected] of [
      ['cat.final.png', { width: 12, height: 10 }],
      ['portrait.jpg', { width: 10, height: 12 }],
    ] as const) {
      const reported: [string, unknown][] = [];
      const ctx = { ...context(), reportStatic: (port: string, info: unknown) => reported.push([port, info]) };
      expect(await loadImage.check!({ path: file }, ctx)).toEqual([]);
      expect(reported).toEqual([['image', expected]]);
      const { image } = await loadImage.execute({}, { path: file }, context());
      expect({ width: image.width, height: image.height }).toEqual(expected);
    }
    // What decoding would refuse is named at check time, with the decoder's code.
    const reported: unknown[] = [];
    const html = await loadImage.check!(
      { path: 'fake.png' },
      { ...context(), reportStatic: (...args) => reported.push(args) },
    );
    expect(html).toEqual([expect.objectContaining({ code: 'IMAGE_UNSUPPORTED', param: 'path' })]);
    expect(reported).toEqual([]);
    const png = await encodeWithSharp(testImage(12, 10), 'png');
    await writeFile(path.join(dir, 'in', 'cut.png'), png.subarray(0, 30));
    expect(await loadImage.check!({ path: 'cut.png' }, context())).toEqual([
      expect.objectContaining({ code: 'IMAGE_CORRUPT', message: expect.stringContaining('header cannot be read') }),
    ]);
    const decoded = await loadImage.execute({}, { path: 'cut.png' }, context()).catch((e: unknown) => e);
    expect((decoded as CoserError).code).toBe('IMAGE_CORRUPT');
  });

  it('strips folders and the last extension only', () => {
    expect(baseNameWithoutExtension('a/b\\c.tar.png')).toBe('c.tar');
    expect(baseNameWithoutExtension('.hidden')).toBe('.hidden');
    expect(baseNameWithoutExtension('noext')).toBe('noext');
  });
});
