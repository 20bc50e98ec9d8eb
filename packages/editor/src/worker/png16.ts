import { planarToSamples, samplesToPlanar } from '@coser/nodes';
import type { ImageBuffer } from '@coser/runtime';
import { decode, encode } from 'fast-png';

// 16-bit PNGs go through fast-png (pure JavaScript) instead of a canvas, which has 8 bits per channel: a 16-bit
// scan or a 16-bit Save Image keeps its precision in the browser as it does on the server (sharp), so a graph gives
// the same result in both. Everything else still decodes natively (createImageBitmap is much faster).

/** Whether PNG bytes declare 16 bits per sample (IHDR bit depth, byte 24). */
export function isSixteenBitPng(bytes: Uint8Array): boolean {
  return bytes.length > 25 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[24] === 16;
}

/**
 * Decodes a 16-bit PNG to planar float (n / 65535; gray 1 channel, gray + alpha as RGBA). Undefined for one with a
 * tRNS colour key, which the canvas path turns into alpha. Throws fast-png's error on damaged data.
 */
export function decodePng16(bytes: Uint8Array): ImageBuffer | undefined {
  const png = decode(bytes, { checkCrc: true });
  if (png.transparency || png.depth !== 16) return undefined;
  return samplesToPlanar(png.data as Uint16Array, png.width, png.height, png.channels, true);
}

/** Encodes planar float (clamped to [0, 1]) as a 16-bit PNG with the image's channels. */
export function encodePng16(image: ImageBuffer): Uint8Array {
  return encode({
    width: image.width,
    height: image.height,
    data: planarToSamples(image, true),
    depth: 16,
    channels: image.channels,
  });
}
