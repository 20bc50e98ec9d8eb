import { createImage } from '@coser/runtime';
import { describe, expect, it } from 'vitest';
import { testImage } from '../test-support';
import type { ResampleFilter } from './resample';
import { resampleImage, resamplePlane } from './resample';

const FILTERS: ResampleFilter[] = ['nearest', 'bilinear', 'bicubic', 'lanczos'];

describe('resample', () => {
  it.each(FILTERS)('%s keeps a constant image constant when up- and downscaling', (filter) => {
    const flat = new Float32Array(13 * 7).fill(0.3);
    for (const [w, h] of [
      [40, 21],
      [5, 3],
      [1, 1],
    ] as const) {
      for (const antialias of [true, false]) {
        const out = resamplePlane(flat, 13, 7, w, h, { filter, antialias });
        expect(out.length).toBe(w * h);
        for (const v of out) expect(v).toBeCloseTo(0.3, 5);
      }
    }
  });

  it('nearest x2 duplicates pixels', () => {
    const out = resamplePlane(Float32Array.from([1, 2, 3, 4]), 2, 2, 4, 4, { filter: 'nearest' });
    expect(Array.from(out)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });

  it('bilinear /2 with antialias averages 2x2 blocks (box-like), as PIL does', () => {
    const src = Float32Array.from({ length: 16 }, (_, i) => i);
    const out = resamplePlane(src, 4, 4, 2, 2, { filter: 'bilinear' });
    // PIL's triangle filter widened x2 over 4 px: weights 1/8, 3/8, 3/8, 1/8 clipped at the border.
    expect(out[0]).toBeCloseTo(((0 * 3 + 1 * 3 + 2 * 1) / 7) * 1 + ((0 * 3 + 4 * 3 + 8 * 1) / 7) * 1 - 0, 4);
  });

  it('bicubic upscaling of a linear ramp stays linear away from the borders', () => {
    const src = Float32Array.from({ length: 16 }, (_, i) => i / 15);
    const out = resamplePlane(src, 16, 1, 64, 1, { filter: 'bicubic' });
    // Output pixel i samples source coordinate (i + 0.5) / 4 - 0.5.
    for (let i = 12; i < 52; i++) expect(out[i]).toBeCloseTo(((i + 0.5) / 4 - 0.5) / 15, 5);
  });

  it('antialias changes downscaling of fine detail but not upscaling', () => {
    const stripes = Float32Array.from({ length: 96 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const aa = resamplePlane(stripes, 96, 1, 48, 1, { filter: 'bicubic', antialias: true });
    const plain = resamplePlane(stripes, 96, 1, 48, 1, { filter: 'bicubic', antialias: false });
    // With antialias the period-3 stripes blur towards their mean (1/3); without, the narrow kernel aliases them.
    const range = (a: Float32Array) => Math.max(...a.slice(4, 44)) - Math.min(...a.slice(4, 44));
    expect(range(aa)).toBeLessThan(0.25);
    expect(range(plain)).toBeGreaterThan(2 * range(aa));
    const up1 = resamplePlane(stripes, 96, 1, 192, 1, { filter: 'bicubic', antialias: true });
    const up2 = resamplePlane(stripes, 96, 1, 192, 1, { filter: 'bicubic', antialias: false });
    for (let i = 4; i < 188; i++) expect(up1[i]).toBeCloseTo(up2[i]!, 5);
  });

  it('resampleImage resizes every plane independently', () => {
    const image = testImage(10, 6, 3);
    const out = resampleImage(image, 5, 3, { filter: 'lanczos' });
    expect([out.width, out.height, out.channels, out.data.length]).toEqual([5, 3, 3, 45]);
    const single = resampleImage(createImage(10, 6, 1, image.data.slice(60, 120)), 5, 3, { filter: 'lanczos' });
    expect(Array.from(out.data.subarray(15, 30))).toEqual(Array.from(single.data));
  });
});
