// 16-bit PNGs in the browser host decode and encode like the Node host's sharp: same float values, same channels.
import { readPngTextChunks } from '@coser/nodes';
import { decodeWithSharp, encodeWithSharp } from '@coser/nodes/node';
import { createImage, type ImageBuffer } from '@coser/runtime';
import { encode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { decodeImage, encodeImage } from './web-host';

const LIMITS = { maxPixels: 1e6 };

/** Values 8 bits cannot hold: every sample differs from its 8-bit rounding. */
function fineImage(channels: 1 | 3 | 4, width = 7, height = 5): ImageBuffer {
  const data = new Float32Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = (((i * 7919) % 65535) + 0.3) / 65535;
  return createImage(width, height, channels, data);
}

function maxDifference(a: ImageBuffer, b: ImageBuffer): number {
  expect([a.width, a.height, a.channels]).toEqual([b.width, b.height, b.channels]);
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i]! - b.data[i]!));
  return max;
}

describe('16-bit PNG in the web host', () => {
  it.each([1, 3, 4] as const)('decodes %i-channel 16-bit PNGs exactly as sharp does', async (channels) => {
    const png = await encodeWithSharp(fineImage(channels), 'png', { bitDepth: 16 });
    const web = await decodeImage(png, LIMITS);
    const node = await decodeWithSharp(png, LIMITS);
    expect(maxDifference(web, node)).toBe(0);
    // Precision beyond 8 bits survived.
    expect(maxDifference(web, fineImage(channels))).toBeLessThan(1 / 65535);
  });

  it('turns gray + alpha into RGBA, as sharp does', async () => {
    const size = 6;
    const samples = new Uint16Array(size * 2).map((_, i) => (i * 9973) % 65536);
    const png = encode({ width: 3, height: 2, data: samples, depth: 16, channels: 2 });
    const web = await decodeImage(png, LIMITS);
    expect(web.channels).toBe(4);
    expect(maxDifference(web, await decodeWithSharp(png, LIMITS))).toBe(0);
  });

  it('writes 16-bit PNGs with their text chunks, which sharp reads back to the same values', async () => {
    const image = fineImage(3);
    const png = await encodeImage(image, 'png', { bitDepth: 16, text: { 'coser:graph': '{"nodes":[]}' } });
    expect(readPngTextChunks(png)).toEqual({ 'coser:graph': '{"nodes":[]}' });
    const back = await decodeWithSharp(png, LIMITS);
    expect(maxDifference(back, image)).toBeLessThan(1 / 65535);
  });

  it('refuses a truncated 16-bit PNG and one over the pixel cap, with their codes', async () => {
    const png = await encodeWithSharp(fineImage(3, 64, 64), 'png', { bitDepth: 16 });
    await expect(decodeImage(png.subarray(0, png.length - 200), LIMITS)).rejects.toMatchObject({
      code: 'IMAGE_CORRUPT',
    });
    await expect(decodeImage(png, { maxPixels: 64 * 64 - 1 })).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' });
  });
});
