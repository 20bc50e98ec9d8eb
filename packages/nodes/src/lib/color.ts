import type { ImageBuffer } from '@coser/runtime';
import { createImage } from '@coser/runtime';

// BT.601 studio-range RGB -> YCbCr on [0, 1] values, the convention of MATLAB's rgb2ycbcr that super-resolution
// papers (and BasicSR) use for PSNR-Y: Y lies in [16, 235] / 255.
const Y_ROW = [65.481, 128.553, 24.966] as const;
const CB_ROW = [-37.797, -74.203, 112.0] as const;
const CR_ROW = [112.0, -93.786, -18.214] as const;

/**
 * The luma (BT.601, studio range) of an RGB image as one plane in [16/255, 235/255].
 * A grayscale image returns its own plane mapped the same way (R = G = B).
 *
 * @example
 * const y = lumaY(image); // Float32Array of width * height
 */
export function lumaY(image: ImageBuffer): Float32Array {
  const size = image.width * image.height;
  const d = image.data;
  const out = new Float32Array(size);
  const gray = image.channels === 1;
  const [kr, kg, kb] = Y_ROW;
  for (let i = 0; i < size; i++) {
    const r = d[i]!;
    const g = gray ? r : d[size + i]!;
    const b = gray ? r : d[2 * size + i]!;
    out[i] = (16 + kr * r + kg * g + kb * b) / 255;
  }
  return out;
}

/** RGB (3 or 4 channels; alpha is dropped) to a 3-plane YCbCr image, BT.601 studio range, values in [0, 1]. */
export function rgbToYCbCr(image: ImageBuffer): ImageBuffer {
  if (image.channels < 3) throw new RangeError('rgbToYCbCr needs an RGB image');
  const size = image.width * image.height;
  const d = image.data;
  const out = new Float32Array(size * 3);
  for (let i = 0; i < size; i++) {
    const r = d[i]!;
    const g = d[size + i]!;
    const b = d[2 * size + i]!;
    out[i] = (16 + Y_ROW[0] * r + Y_ROW[1] * g + Y_ROW[2] * b) / 255;
    out[size + i] = (128 + CB_ROW[0] * r + CB_ROW[1] * g + CB_ROW[2] * b) / 255;
    out[2 * size + i] = (128 + CR_ROW[0] * r + CR_ROW[1] * g + CR_ROW[2] * b) / 255;
  }
  return createImage(image.width, image.height, 3, out, image.meta);
}

/** The inverse of the forward matrix, computed once so the round trip is exact up to float rounding. */
const INVERSE = invert3([Y_ROW, CB_ROW, CR_ROW]);

function invert3(m: readonly (readonly [number, number, number])[]): number[][] {
  const [a, b, c] = m as unknown as [readonly number[], readonly number[], readonly number[]];
  const [a0, a1, a2] = a as [number, number, number];
  const [b0, b1, b2] = b as [number, number, number];
  const [c0, c1, c2] = c as [number, number, number];
  const det = a0 * (b1 * c2 - b2 * c1) - a1 * (b0 * c2 - b2 * c0) + a2 * (b0 * c1 - b1 * c0);
  return [
    [(b1 * c2 - b2 * c1) / det, (a2 * c1 - a1 * c2) / det, (a1 * b2 - a2 * b1) / det],
    [(b2 * c0 - b0 * c2) / det, (a0 * c2 - a2 * c0) / det, (a2 * b0 - a0 * b2) / det],
    [(b0 * c1 - b1 * c0) / det, (a1 * c0 - a0 * c1) / det, (a0 * b1 - a1 * b0) / det],
  ];
}

/** 3-plane YCbCr (as `rgbToYCbCr` makes) back to RGB in [0, 1] (not clamped). */
export function yCbCrToRgb(image: ImageBuffer): ImageBuffer {
  if (image.channels !== 3) throw new RangeError('yCbCrToRgb needs a 3-plane YCbCr image');
  const size = image.width * image.height;
  const d = image.data;
  const out = new Float32Array(size * 3);
  const m = INVERSE;
  for (let i = 0; i < size; i++) {
    // Back to the 0-255-scaled offsets the forward matrix produced.
    const y = d[i]! * 255 - 16;
    const cb = d[size + i]! * 255 - 128;
    const cr = d[2 * size + i]! * 255 - 128;
    for (let c = 0; c < 3; c++) {
      const row = m[c]!;
      out[c * size + i] = row[0]! * y + row[1]! * cb + row[2]! * cr;
    }
  }
  return createImage(image.width, image.height, 3, out, image.meta);
}
