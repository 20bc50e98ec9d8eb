import type { ImageBuffer } from '@coser/runtime';
import { CoserError, createImage } from '@coser/runtime';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { resampleImage } from '../lib/resample';
import { fakeContext, testImage } from '../test-support';
import { SHARED_IMAGES_DIR } from '../testing/shared-images';
import { compare } from './compare';

const IMAGES = SHARED_IMAGES_DIR;
const NAMES = ['astronaut', 'chelsea', 'coffee', 'motorcycle_left', 'rocket'];

async function loadRgb(file: string): Promise<ImageBuffer> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const size = info.width * info.height;
  const out = new Float32Array(size * 3);
  for (let c = 0; c < 3; c++) for (let i = 0; i < size; i++) out[c * size + i] = data[i * 3 + c]! / 255;
  return createImage(info.width, info.height, 3, out);
}

const defaults = compare.params.parse({});

type Metrics = { psnr: number; ssim: number; psnrY: number; ssimY: number };

describe('metrics.compare', () => {
  it('gives infinite PSNR and SSIM 1 for identical images', async () => {
    const image = testImage(32, 24);
    const { metrics } = await compare.execute({ image, reference: image }, defaults, fakeContext());
    expect(metrics).toEqual({ psnr: Number.POSITIVE_INFINITY, ssim: 1, psnrY: Number.POSITIVE_INFINITY, ssimY: 1 });
  });

  it('matches the PSNR formula on a uniform error', async () => {
    const reference = createImage(16, 16, 3, new Float32Array(16 * 16 * 3).fill(100 / 255));
    const image = createImage(16, 16, 3, new Float32Array(16 * 16 * 3).fill(110 / 255));
    const { metrics } = await compare.execute({ image, reference }, { border: 0 }, fakeContext());
    expect(metrics.psnr).toBeCloseTo(10 * Math.log10((255 * 255) / 100), 6);
    // Y moves by 10 * (65.481 + 128.553 + 24.966) / 255 = 8.588 on a uniform grey shift.
    expect(metrics.psnrY).toBeCloseTo(10 * Math.log10((255 * 255) / ((10 * 219) / 255) ** 2), 4);
    // Uniform images: SSIM is the luminance term only.
    const c1 = (0.01 * 255) ** 2;
    expect(metrics.ssim).toBeCloseTo((2 * 100 * 110 + c1) / (100 * 100 + 110 * 110 + c1), 6);
  });

  it('refuses images of different sizes, naming both sizes, and borders that leave nothing', async () => {
    const error = await compare
      .execute({ image: testImage(20, 20), reference: testImage(20, 21) }, defaults, fakeContext())
      .catch((e: unknown) => e);
    expect((error as CoserError).code).toBe('IMAGE_UNSUPPORTED');
    expect((error as CoserError).message).toMatch(/20x20.*20x21/);
    const border = await compare
      .execute({ image: testImage(20, 20), reference: testImage(20, 20) }, { border: 5 }, fakeContext())
      .catch((e: unknown) => e);
    expect(border).toBeInstanceOf(CoserError);
    expect((border as CoserError).code).toBe('PARAM_OUT_OF_RANGE');
  });

  it('bicubic x4 of the sample LR images scores near the published 26.93 dB PSNR-Y', async () => {
    let total = 0;
    for (const name of NAMES) {
      const hr = await loadRgb(`${IMAGES}/${name}_hr.png`);
      const lr = await loadRgb(`${IMAGES}/${name}_lr.png`);
      const up = resampleImage(lr, hr.width, hr.height, { filter: 'bicubic' });
      const metrics = (await compare.execute({ image: up, reference: hr }, defaults, fakeContext())).metrics as Metrics;
      expect(metrics.ssimY).toBeGreaterThan(0.5);
      expect(metrics.ssimY).toBeLessThan(1);
      expect(metrics.psnr).toBeLessThan(metrics.psnrY + 3);
      total += metrics.psnrY;
    }
    const mean = total / NAMES.length;
    expect(mean).toBeGreaterThan(26.0);
    expect(mean).toBeLessThan(28.0);
  });

  it('is symmetric and drops alpha', async () => {
    const a = testImage(24, 24, 4);
    const b = testImage(24, 24, 3);
    const blurred = resampleImage(resampleImage(b, 12, 12, { filter: 'bilinear' }), 24, 24, { filter: 'bilinear' });
    const ab = await compare.execute({ image: a, reference: blurred }, defaults, fakeContext());
    const ba = await compare.execute({ image: blurred, reference: b }, defaults, fakeContext());
    expect(ab.metrics['psnr']).toBeCloseTo(ba.metrics['psnr']!, 10);
    expect(ab.metrics['ssim']).toBeCloseTo(ba.metrics['ssim']!, 10);
  });
});
