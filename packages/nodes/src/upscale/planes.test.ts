import { describe, expect, it } from 'vitest';
import { cropPlanes, type Planes, padReflect, transform, untransform } from './planes';

const image: Planes = { width: 3, height: 2, channels: 2, data: Float32Array.from({ length: 12 }, (_, i) => i) };

describe('planes', () => {
  it('undoes each of the 8 flips/rotations, on a non-square image', () => {
    const seen = new Set<string>();
    for (let t = 0; t < 8; t++) {
      const moved = transform(image, t);
      expect([moved.width, moved.height]).toEqual(t & 4 ? [2, 3] : [3, 2]);
      seen.add(Array.from(moved.data).join(','));
      const back = untransform(moved, t);
      expect([back.width, back.height]).toEqual([3, 2]);
      expect(Array.from(back.data)).toEqual(Array.from(image.data));
    }
    // All 8 are distinct transforms of an asymmetric image.
    expect(seen.size).toBe(8);
  });

  it('mirrors left-right with bit 0 and transposes with bit 2', () => {
    expect(Array.from(transform(image, 1).data.subarray(0, 6))).toEqual([2, 1, 0, 5, 4, 3]);
    expect(Array.from(transform(image, 4).data.subarray(0, 6))).toEqual([0, 3, 1, 4, 2, 5]);
  });

  it('reflect-pads without repeating the edge, and crops back', () => {
    const row: Planes = { width: 3, height: 1, channels: 1, data: Float32Array.of(1, 2, 3) };
    const padded = padReflect(row, 0, 2, 0, 2);
    expect(Array.from(padded.data)).toEqual([3, 2, 1, 2, 3, 2, 1]);
    expect(Array.from(cropPlanes(padded, 2, 0, 3, 1).data)).toEqual([1, 2, 3]);
    expect(() => cropPlanes(padded, 5, 0, 3, 1)).toThrow(RangeError);
  });
});
