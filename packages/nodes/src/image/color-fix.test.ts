import { createImage } from '@coser/runtime';
import { describe, expect, it } from 'vitest';
import { planeStats, waveletLowPass } from '../lib/image-ops';
import { fakeContext, testImage } from '../test-support';
import { colorFix } from './color-fix';

function plane(data: Float32Array, c: number, size: number) {
  return data.subarray(c * size, (c + 1) * size);
}

/** A reference with other colours: a shifted, contrast-changed version of the image. */
function recoloured(width: number, height: number) {
  const base = testImage(width, height);
  return createImage(
    width,
    height,
    3,
    base.data.map((v, i) => v * (0.5 + (i % 3) * 0.1) + 0.2),
  );
}

describe('image.colorFix', () => {
  it('adain gives each channel the mean and std of the reference', async () => {
    const image = testImage(32, 32);
    const reference = recoloured(32, 32);
    const { image: out } = await colorFix.execute({ image, reference }, { method: 'adain' }, fakeContext());
    const size = 32 * 32;
    for (let c = 0; c < 3; c++) {
      const got = planeStats(plane(out.data, c, size));
      const want = planeStats(plane(reference.data, c, size));
      expect(got.mean).toBeCloseTo(want.mean, 5);
      expect(got.std).toBeCloseTo(want.std, 5);
    }
  });

  it('wavelet keeps the low frequencies of the reference and the high ones of the image', async () => {
    const image = testImage(48, 40);
    const reference = recoloured(48, 40);
    const { image: out } = await colorFix.execute({ image, reference }, { method: 'wavelet' }, fakeContext());
    const size = 48 * 40;
    for (let c = 0; c < 3; c++) {
      const lowOut = waveletLowPass(plane(out.data, c, size), 48, 40);
      const lowRef = waveletLowPass(plane(reference.data, c, size), 48, 40);
      const highOut = plane(out.data, c, size).map((v, i) => v - lowOut[i]!);
      const src = plane(image.data, c, size);
      const lowSrc = waveletLowPass(src, 48, 40);
      const highSrc = src.map((v, i) => v - lowSrc[i]!);
      // Blurring is not idempotent, so compare loosely: low parts near the reference, high parts near the image.
      const err = (a: Float32Array, b: Float32Array) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
      expect(err(lowOut, lowRef)).toBeLessThan(0.05);
      expect(err(highOut, highSrc)).toBeLessThan(0.05);
      // And the image's own low frequencies are gone: the mean follows the reference.
      expect(planeStats(plane(out.data, c, size)).mean).toBeCloseTo(planeStats(plane(reference.data, c, size)).mean, 1);
    }
  });

  it('resizes the reference to the image, keeps alpha and meta', async () => {
    const image = { ...testImage(32, 16, 4), meta: { sourceName: 'x' } };
    const reference = recoloured(8, 4);
    for (const method of ['adain', 'wavelet'] as const) {
      const { image: out } = await colorFix.execute({ image, reference }, { method }, fakeContext());
      expect([out.width, out.height, out.channels]).toEqual([32, 16, 4]);
      expect(Array.from(plane(out.data, 3, 512))).toEqual(Array.from(plane(image.data, 3, 512)));
      expect(out.meta?.sourceName).toBe('x');
    }
  });

  it('a flat image channel takes the reference mean instead of dividing by zero', async () => {
    const image = createImage(12, 12, 3, new Float32Array(12 * 12 * 3).fill(0.5));
    const { image: out } = await colorFix.execute(
      { image, reference: recoloured(12, 12) },
      { method: 'adain' },
      fakeContext(),
    );
    expect(out.data.every(Number.isFinite)).toBe(true);
  });
});
