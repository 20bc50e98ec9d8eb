import { CoserError, createImage } from '@coser/runtime';
import { describe, expect, it } from 'vitest';
import { fakeContext } from '../test-support';
import { crop } from './crop';

const image = createImage(
  4,
  3,
  3,
  Float32Array.from({ length: 36 }, (_, i) => i),
  { sourceName: 's' },
);

describe('image.crop', () => {
  it('cuts the rectangle from every plane', async () => {
    const { image: out } = await crop.execute({ image }, { x: 1, y: 1, width: 2, height: 2 }, fakeContext());
    expect([out.width, out.height, out.channels]).toEqual([2, 2, 3]);
    expect(Array.from(out.data)).toEqual([5, 6, 9, 10, 17, 18, 21, 22, 29, 30, 33, 34]);
    expect(out.meta?.sourceName).toBe('s');
  });

  it('clips to the image and treats 0 as "to the edge"', async () => {
    const { image: out } = await crop.execute({ image }, { x: 3, y: 0, width: 10, height: 0 }, fakeContext());
    expect([out.width, out.height]).toEqual([1, 3]);
    expect(crop.inferStatic!({ image: { width: 4, height: 3 } }, { x: 1, y: 2, width: 0, height: 5 })).toEqual({
      image: { width: 3, height: 1 },
    });
  });

  it('refuses a crop that leaves nothing', async () => {
    const error = await crop.execute({ image }, { x: 4, y: 0, width: 1, height: 1 }, fakeContext()).catch((e) => e);
    expect(error).toBeInstanceOf(CoserError);
    expect((error as CoserError).code).toBe('PARAM_OUT_OF_RANGE');
    expect((error as CoserError).location.param).toBe('x');
  });
});
