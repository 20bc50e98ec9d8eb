import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CoserError, createImage } from '@coser/runtime';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { crc32, makeITxtChunk, readPngTextChunks } from '../lib/png-text';
import { testImage } from '../test-support';
import { SHARED_IMAGES_DIR } from '../testing/shared-images';
import { decodeWithSharp, encodeWithSharp } from './sharp-codec';

const BIG = { maxPixels: 64 * 1024 * 1024 };

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof CoserError) return error.code;
    throw error;
  }
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A PNG whose header claims width x height but which carries only a few bytes of pixel data. */
function headerOnlyPng(width: number, height: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, adaptive filter, no interlace
  // A valid zlib stream of one empty stored block: the decoder would run out of data long before 20000 rows.
  const idat = new Uint8Array([0x78, 0x01, 0x01, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01]);
  return concat([
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', new Uint8Array()),
  ]);
}

async function png(width: number, height: number, channels: 1 | 3 | 4 = 3): Promise<Uint8Array> {
  return encodeWithSharp(testImage(width, height, channels), 'png');
}

describe('decodeWithSharp: the image corpus', () => {
  it('refuses a 20000x20000 header before decoding, and memory stays small', async () => {
    const bytes = headerOnlyPng(20000, 20000);
    const before = process.memoryUsage().rss;
    const error = await decodeWithSharp(bytes, BIG).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CoserError);
    expect((error as CoserError).code).toBe('IMAGE_TOO_LARGE');
    expect((error as CoserError).message).toContain('20000x20000');
    expect((error as CoserError).message).toContain(String(BIG.maxPixels));
    // Decoding it would need 400 M pixels (GBs); refusing from the header needs next to nothing.
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);
  });

  it('accepts an image exactly at the pixel cap and refuses one pixel over', async () => {
    const bytes = await png(10, 10);
    expect((await decodeWithSharp(bytes, { maxPixels: 100 })).width).toBe(10);
    expect(await code(decodeWithSharp(bytes, { maxPixels: 99 }))).toBe('IMAGE_TOO_LARGE');
    // Fractional and infinite caps are fine too (no cap means no sharp limit either).
    expect((await decodeWithSharp(bytes, { maxPixels: 100.5 })).width).toBe(10);
    expect((await decodeWithSharp(bytes, { maxPixels: Number.POSITIVE_INFINITY })).width).toBe(10);
  });

  it('refuses zero bytes and truncated PNG/JPEG as IMAGE_CORRUPT', async () => {
    const hr = new Uint8Array(await readFile(path.join(SHARED_IMAGES_DIR, 'astronaut_hr.png')));
    const jpeg = await encodeWithSharp(testImage(64, 64), 'jpeg');
    expect(await code(decodeWithSharp(new Uint8Array(), BIG))).toBe('IMAGE_CORRUPT');
    expect(await code(decodeWithSharp(hr.subarray(0, hr.length >> 1), BIG))).toBe('IMAGE_CORRUPT');
    expect(await code(decodeWithSharp(hr.subarray(0, 30), BIG))).toBe('IMAGE_CORRUPT');
    expect(await code(decodeWithSharp(jpeg.subarray(0, jpeg.length >> 1), BIG))).toBe('IMAGE_CORRUPT');
    expect(await code(decodeWithSharp(headerOnlyPng(64, 64), BIG))).toBe('IMAGE_CORRUPT');
  });

  it('sniffs the bytes: JPEG named .png decodes; SVG, HTML and garbage are refused', async () => {
    const jpeg = await encodeWithSharp(testImage(16, 8), 'jpeg');
    const image = await decodeWithSharp(jpeg, BIG);
    expect([image.width, image.height, image.channels]).toEqual([16, 8, 3]);
    const svg = new TextEncoder().encode('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="9"/>');
    const html = new TextEncoder().encode('<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>');
    expect(await code(decodeWithSharp(svg, BIG))).toBe('IMAGE_UNSUPPORTED');
    expect(await code(decodeWithSharp(html, BIG))).toBe('IMAGE_UNSUPPORTED');
    expect(await code(decodeWithSharp(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), BIG))).toBe('IMAGE_UNSUPPORTED');
  });

  it('keeps 16-bit precision', async () => {
    const raw = new Uint16Array(4 * 2 * 3).fill(1000);
    const bytes = await sharp(raw, { raw: { width: 4, height: 2, channels: 3 } })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    const image = await decodeWithSharp(new Uint8Array(bytes), BIG);
    expect(image.data[0]).toBeCloseTo(1000 / 65535, 7);
    // 8 bits could only give a multiple of 1/255.
    expect(Math.abs(image.data[0]! * 255 - Math.round(image.data[0]! * 255))).toBeGreaterThan(0.01);
  });

  it('grayscale gives 1 channel, grayscale + alpha gives RGBA, alpha stays the 4th channel', async () => {
    const gray = await sharp(new Uint8Array(6).fill(128), { raw: { width: 3, height: 2, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toBuffer();
    expect((await sharp(gray).metadata()).channels).toBe(1);
    const g = await decodeWithSharp(new Uint8Array(gray), BIG);
    expect(g.channels).toBe(1);
    expect(g.data[0]).toBeCloseTo(128 / 255, 6);
    const grayAlpha = await sharp(Uint8Array.from([10, 200, 20, 100, 30, 50, 40, 0]), {
      raw: { width: 2, height: 2, channels: 2 },
    })
      .png()
      .toBuffer();
    const ga = await decodeWithSharp(new Uint8Array(grayAlpha), BIG);
    expect(ga.channels).toBe(4);
    expect(Array.from(ga.data.subarray(12, 16), (v) => Math.round(v * 255))).toEqual([200, 100, 50, 0]);
    const rgba = await decodeWithSharp(await png(5, 4, 4), BIG);
    expect(rgba.channels).toBe(4);
    expect(rgba.data[3 * 20]).toBeCloseTo(Math.round(255 * (1 - 0 / 10)) / 255, 5);
  });

  it('converts CMYK JPEG to sRGB', async () => {
    const cmyk = await sharp(await png(8, 8))
      .toColourspace('cmyk')
      .jpeg()
      .toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const image = await decodeWithSharp(new Uint8Array(cmyk), BIG);
    expect(image.channels).toBe(3);
    expect(image.width).toBe(8);
  });

  it('takes the first frame of an animated GIF', async () => {
    const frames = new Uint8Array(8 * 16 * 3);
    for (let i = 0; i < 8 * 8; i++) frames[i * 3] = 255; // frame 1 red
    for (let i = 8 * 8; i < 8 * 16; i++) frames[i * 3 + 2] = 255; // frame 2 blue
    const gif = await sharp(frames, { raw: { width: 8, height: 16, channels: 3, pageHeight: 8 } })
      .gif()
      .toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(2);
    const image = await decodeWithSharp(new Uint8Array(gif), BIG);
    expect([image.width, image.height]).toEqual([8, 8]);
    expect(image.data[0]).toBeGreaterThan(0.9);
    expect(image.data[2 * 64]).toBeLessThan(0.1);
  });

  it('applies the EXIF orientation', async () => {
    const rotated = await sharp(await png(8, 4))
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const image = await decodeWithSharp(new Uint8Array(rotated), BIG);
    expect([image.width, image.height]).toEqual([4, 8]);
  });

  it('decodes a PNG with a huge text chunk', async () => {
    const plain = await png(4, 4);
    const big = makeITxtChunk('Comment', 'x'.repeat(4 * 1024 * 1024));
    const withText = concat([plain.subarray(0, 33), big, plain.subarray(33)]);
    expect((await decodeWithSharp(withText, BIG)).width).toBe(4);
    expect(readPngTextChunks(withText)['Comment']?.length).toBe(4 * 1024 * 1024);
  });
});

describe('encodeWithSharp', () => {
  it('round-trips 8-bit and 16-bit PNG, clamps out-of-range values and embeds text', async () => {
    const image = createImage(2, 1, 3, Float32Array.from([-0.5, 1.5, 0.25, 0.5, 0.75, 1 / 3]));
    const eight = await decodeWithSharp(await encodeWithSharp(image, 'png', { text: { 'coser:graph': '{}' } }), BIG);
    expect(Array.from(eight.data, (v) => Math.round(v * 255))).toEqual([0, 255, 64, 128, 191, 85]);
    const bytes16 = await encodeWithSharp(image, 'png', { bitDepth: 16 });
    expect((await sharp(bytes16).metadata()).depth).toBe('ushort');
    const sixteen = await decodeWithSharp(bytes16, BIG);
    expect(sixteen.data[5]).toBeCloseTo(1 / 3, 4);
    expect(readPngTextChunks(await encodeWithSharp(image, 'png', { text: { 'coser:graph': '{"a":1}' } }))).toEqual({
      'coser:graph': '{"a":1}',
    });
  });

  it('keeps grayscale images grayscale in PNG and JPEG (WebP has no grayscale mode)', async () => {
    for (const format of ['png', 'jpeg'] as const) {
      const bytes = await encodeWithSharp(testImage(8, 8, 1), format);
      expect((await decodeWithSharp(bytes, BIG)).channels).toBe(1);
    }
    expect(
      (await decodeWithSharp(await encodeWithSharp(testImage(8, 8, 1), 'png', { bitDepth: 16 }), BIG)).channels,
    ).toBe(1);
  });

  it('keeps alpha in 8- and 16-bit PNG and WebP, drops it in JPEG without changing colours', async () => {
    const image = createImage(1, 1, 4, Float32Array.from([0.8, 0.4, 0.2, 0.25]));
    for (const [format, bitDepth] of [
      ['png', 8],
      ['png', 16],
      ['webp', 8],
    ] as const) {
      const out = await decodeWithSharp(await encodeWithSharp(image, format, { bitDepth, quality: 100 }), BIG);
      expect(out.channels, `${format} ${bitDepth}`).toBe(4);
      expect(out.data[3]).toBeCloseTo(0.25, 2);
    }
    const jpeg = await decodeWithSharp(await encodeWithSharp(image, 'jpeg', { quality: 100 }), BIG);
    expect(jpeg.channels).toBe(3);
    expect(jpeg.data[0]).toBeCloseTo(0.8, 1);
  });

  it('writes JPEG and WebP whose quality changes the size', async () => {
    const image = testImage(64, 64);
    for (const format of ['jpeg', 'webp'] as const) {
      const low = await encodeWithSharp(image, format, { quality: 10 });
      const high = await encodeWithSharp(image, format, { quality: 95 });
      expect(low.length).toBeLessThan(high.length);
      expect((await decodeWithSharp(high, BIG)).width).toBe(64);
    }
  });
});
