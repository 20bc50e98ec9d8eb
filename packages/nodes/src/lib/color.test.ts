import { createImage } from '@coser/runtime';
import { describe, expect, it } from 'vitest';
import { testImage } from '../test-support';
import { lumaY, rgbToYCbCr, yCbCrToRgb } from './color';

describe('BT.601 colour conversion', () => {
  it('maps black and white to the studio range 16-235 and grey to mid chroma', () => {
    const image = createImage(2, 1, 3, Float32Array.from([0, 1, 0, 1, 0, 1]));
    const ycc = rgbToYCbCr(image);
    expect(ycc.data[0]! * 255).toBeCloseTo(16, 4);
    expect(ycc.data[1]! * 255).toBeCloseTo(235, 2);
    expect(ycc.data[2]! * 255).toBeCloseTo(128, 4);
    expect(ycc.data[5]! * 255).toBeCloseTo(128, 2);
    expect(Array.from(lumaY(image))).toEqual([ycc.data[0], ycc.data[1]]);
  });

  it('round-trips RGB through YCbCr', () => {
    const image = testImage(8, 8);
    const back = yCbCrToRgb(rgbToYCbCr(image));
    for (let i = 0; i < image.data.length; i++) expect(back.data[i]).toBeCloseTo(image.data[i]!, 5);
  });

  it('treats grayscale as R = G = B', () => {
    const gray = createImage(1, 1, 1, Float32Array.from([0.4]));
    const rgb = createImage(1, 1, 3, Float32Array.from([0.4, 0.4, 0.4]));
    expect(lumaY(gray)[0]).toBeCloseTo(lumaY(rgb)[0]!, 6);
  });
});
