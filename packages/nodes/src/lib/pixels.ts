import { createImage, type ImageBuffer } from '@coser/runtime';

/**
 * Interleaved 8- or 16-bit samples (as decoders give them) -> planar float [0, 1]. The runtime's images have 1, 3
 * or 4 channels: gray + alpha (2) becomes RGBA with the gray value in R, G and B. Shared by the Node host (sharp)
 * and the browser host, so both give the same image for the same file.
 */
export function samplesToPlanar(
  samples: Uint8Array | Uint16Array,
  width: number,
  height: number,
  inChannels: number,
  sixteen: boolean,
): ImageBuffer {
  const size = width * height;
  const scale = sixteen ? 1 / 65535 : 1 / 255;
  const channels: 1 | 3 | 4 = inChannels === 1 ? 1 : inChannels === 3 ? 3 : 4;
  const out = new Float32Array(size * channels);
  const source = (c: number) => (inChannels === 2 ? (c === 3 ? 1 : 0) : c);
  for (let c = 0; c < channels; c++) {
    const from = source(c);
    const base = c * size;
    for (let i = 0; i < size; i++) out[base + i] = samples[i * inChannels + from]! * scale;
  }
  return createImage(width, height, channels, out);
}

/** Planar float -> interleaved 8- or 16-bit samples, clamped to [0, 1] (SR nets overshoot), NaN as 0. */
export function planarToSamples(image: ImageBuffer, sixteen: boolean): Uint8Array | Uint16Array {
  const size = image.width * image.height;
  const n = image.channels;
  const max = sixteen ? 65535 : 255;
  const out = sixteen ? new Uint16Array(size * n) : new Uint8Array(size * n);
  const d = image.data;
  for (let c = 0; c < n; c++) {
    const base = c * size;
    for (let i = 0; i < size; i++) {
      const v = d[base + i]!;
      out[i * n + c] = v > 0 ? (v < 1 ? Math.round(v * max) : max) : 0;
    }
  }
  return out;
}
