import { CoserError } from '@coser/runtime';
import { describe, expect, it } from 'vitest';
import { fakeContext, testImage } from '../test-support';
import { resize, resizedSize } from './resize';

const defaults = resize.params.parse({});

describe('image.resize', () => {
  it('computes output sizes for scale and size modes, keeping the aspect ratio when one side is 0', () => {
    const input = { width: 200, height: 100 };
    expect(resizedSize(input, { ...defaults, scale: 0.5 })).toEqual({ width: 100, height: 50 });
    expect(resizedSize(input, { ...defaults, scale: 0.001 })).toEqual({ width: 1, height: 1 });
    expect(resizedSize(input, { ...defaults, mode: 'size', width: 50 })).toEqual({ width: 50, height: 25 });
    expect(resizedSize(input, { ...defaults, mode: 'size', height: 50 })).toEqual({ width: 100, height: 50 });
    expect(resizedSize(input, { ...defaults, mode: 'size', width: 7, height: 9 })).toEqual({ width: 7, height: 9 });
    expect(resizedSize(input, { ...defaults, mode: 'size' })).toEqual(input);
    expect(resizedSize({}, defaults)).toBeUndefined();
  });

  it('reports the output size statically', () => {
    expect(resize.inferStatic!({ image: { width: 10, height: 20, channels: 3 } }, { ...defaults, scale: 3 })).toEqual({
      image: { width: 30, height: 60, channels: 3 },
    });
    expect(resize.inferStatic!({}, defaults)).toEqual({});
  });

  it('resizes every channel and keeps meta', async () => {
    const image = { ...testImage(16, 8, 4), meta: { sourceName: 'x' } };
    const { image: out } = await resize.execute({ image }, { ...defaults, scale: 2 }, fakeContext());
    expect([out.width, out.height, out.channels]).toEqual([32, 16, 4]);
    expect(out.meta?.sourceName).toBe('x');
  });

  it('refuses outputs over the pixel cap at check time and before allocating', async () => {
    const ctx = fakeContext({ limits: { maxPixels: 1000 } });
    const big = { ...defaults, mode: 'size' as const, width: 100, height: 11 };
    expect(await resize.check!(big, ctx)).toEqual([expect.objectContaining({ code: 'IMAGE_TOO_LARGE' })]);
    expect(await resize.check!({ ...big, height: 10 }, ctx)).toEqual([]);
    const error = await resize
      .execute({ image: testImage(20, 20) }, { ...defaults, scale: 16 }, ctx)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CoserError);
    expect((error as CoserError).code).toBe('IMAGE_TOO_LARGE');
    expect((error as CoserError).message).toContain('320x320');
  });

  it('rejects out-of-range params through the schema', () => {
    expect(resize.params.safeParse({ scale: 0 }).success).toBe(false);
    expect(resize.params.safeParse({ scale: Number.NaN }).success).toBe(false);
    expect(resize.params.safeParse({ width: 1e308 }).success).toBe(false);
    expect(resize.params.safeParse({ width: -1 }).success).toBe(false);
  });
});
