import { describe, expect, it } from 'vitest';
import { isCoserError } from '../errors';
import { createImage, type ImageBuffer } from '../image/image-buffer';
import { bilinearResize } from '../testing/resize';
import { planTiles, tileSpans } from './plan-tiles';
import { resolveTileSize, tileWorkingBytes } from './resolve-tile-size';
import { tileImage } from './tile-image';

function pattern(width: number, height: number, channels: 1 | 3 | 4, smooth = false): ImageBuffer {
  const image = createImage(width, height, channels);
  let seed = 1;
  for (let i = 0; i < image.data.length; i++) {
    if (smooth) {
      const x = i % width;
      const y = Math.floor(i / width) % height;
      const c = Math.floor(i / (width * height));
      image.data[i] = 0.5 + 0.4 * Math.sin(x / 7 + c) * Math.cos(y / 5);
    } else {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      image.data[i] = seed / 2 ** 31;
    }
  }
  return image;
}

function maxAbsDiff(a: ImageBuffer, b: ImageBuffer): number {
  expect([a.width, a.height, a.channels]).toEqual([b.width, b.height, b.channels]);
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i]! - b.data[i]!));
  return max;
}

const map = (image: ImageBuffer, f: (v: number) => number): ImageBuffer =>
  createImage(image.width, image.height, image.channels, image.data.map(f));

describe('planTiles', () => {
  it('covers the image with equal, balanced tiles no larger than asked, sharing at least the overlap', () => {
    for (const [w, h, size, overlap] of [
      [100, 70, 32, 8],
      [59, 59, 32, 8],
      [512, 512, 512, 16],
      [513, 40, 512, 16],
      [512, 512, 256, 16],
      [1, 1, 64, 8],
    ] as const) {
      const tiles = planTiles(w, h, size, overlap);
      const covered = new Uint8Array(w * h);
      for (const t of tiles) {
        expect(t.width).toBe(tiles[0]!.width);
        expect(t.height).toBe(tiles[0]!.height);
        expect(t.width).toBeLessThanOrEqual(Math.min(size, w));
        expect(t.height).toBeLessThanOrEqual(Math.min(size, h));
        expect(t.x + t.width).toBeLessThanOrEqual(w);
        for (let y = t.y; y < t.y + t.height; y++) for (let x = t.x; x < t.x + t.width; x++) covered[y * w + x] = 1;
      }
      expect(covered.every((v) => v === 1)).toBe(true);
      const { starts, length } = tileSpans(w, size, overlap);
      for (let i = 1; i < starts.length; i++)
        expect(starts[i - 1]! + length - starts[i]!).toBeGreaterThanOrEqual(overlap);
      // Balanced: shrinking the tiles by one alignment step would break coverage with that overlap.
      if (starts.length > 1) expect(starts.length * (length - 8) - (starts.length - 1) * overlap).toBeLessThan(w);
    }
    expect(planTiles(1000, 600, 512, 32).map((t) => [t.x, t.y, t.width, t.height])).toEqual([
      [0, 0, 360, 320],
      [320, 0, 360, 320],
      [640, 0, 360, 320],
      [0, 280, 360, 320],
      [320, 280, 360, 320],
      [640, 280, 360, 320],
    ]);
    // 512 px in tiles of at most 256: three tiles of 184, not three of 256.
    expect(tileSpans(512, 256, 16)).toEqual({ starts: [0, 164, 328], length: 184 });
  });

  it('refuses empty images', () => {
    expect(() => planTiles(0, 10, 32, 4)).toThrow(RangeError);
  });
});

describe('resolveTileSize', () => {
  const context = { width: 4096, height: 4096, channels: 3, scale: 4, memoryBudgetBytes: 256 * 1024 ** 2 };

  it('picks the largest multiple of 32 that fits the budget', () => {
    const size = resolveTileSize('auto', context);
    expect(size % 32).toBe(0);
    expect(tileWorkingBytes(size, context)).toBeLessThanOrEqual(context.memoryBudgetBytes);
    expect(tileWorkingBytes(size + 32, context)).toBeGreaterThan(context.memoryBudgetBytes);
    expect(resolveTileSize('auto', { ...context, memoryBudgetBytes: 1 })).toBe(64);
    expect(resolveTileSize('auto', { ...context, memoryBudgetBytes: 1e12 })).toBe(2048);
    expect(resolveTileSize('auto', { ...context, width: 100, height: 90, memoryBudgetBytes: 1e12 })).toBe(128);
    expect(resolveTileSize(300, context)).toBe(300);
  });
});

describe('tileImage', () => {
  it('equals the untiled result for identity and pointwise functions, three-way overlaps included', async () => {
    for (const [w, h] of [
      [100, 70],
      [59, 59],
    ] as const) {
      const image = pattern(w, h, 3);
      const identity = await tileImage(image, async (t) => t, { tileSize: 32, overlap: 8, scale: 1 });
      expect(maxAbsDiff(identity, image)).toBeLessThan(1e-6);
      const f = (v: number) => v * 2 - 0.25;
      const pointwise = await tileImage(image, async (t) => map(t, f), { tileSize: 32, overlap: 8, scale: 1 });
      expect(maxAbsDiff(pointwise, map(image, f))).toBeLessThan(1e-6);
    }
  });

  it('changes channel count and scale', async () => {
    const image = pattern(50, 40, 3);
    const luma = (t: ImageBuffer) => {
      const plane = t.width * t.height;
      const out = createImage(t.width, t.height, 1);
      for (let i = 0; i < plane; i++) out.data[i] = (t.data[i]! + t.data[plane + i]! + t.data[2 * plane + i]!) / 3;
      return out;
    };
    const tiled = await tileImage(image, async (t) => luma(t), { tileSize: 32, overlap: 6, scale: 1, outChannels: 1 });
    expect(maxAbsDiff(tiled, luma(image))).toBeLessThan(1e-6);

    const nearest = (t: ImageBuffer) => {
      const out = createImage(t.width * 2, t.height * 2, t.channels);
      for (let c = 0; c < t.channels; c++)
        for (let y = 0; y < out.height; y++)
          for (let x = 0; x < out.width; x++)
            out.data[(c * out.height + y) * out.width + x] = t.data[(c * t.height + (y >> 1)) * t.width + (x >> 1)]!;
      return out;
    };
    const up = await tileImage(image, async (t) => nearest(t), { tileSize: 32, overlap: 6, scale: 2 });
    expect(up.width).toBe(100);
    expect(maxAbsDiff(up, nearest(image))).toBeLessThan(1e-6);
    expect(up.meta?.tiles).toEqual({ size: 32, overlap: 6 });
  });

  it('stays close to an untiled bilinear resize (seams feathered)', async () => {
    const image = pattern(96, 80, 3, true);
    const whole = bilinearResize(image, 2);
    const tiled = await tileImage(image, async (t) => bilinearResize(t, 2), { tileSize: 40, overlap: 8, scale: 2 });
    expect(maxAbsDiff(tiled, whole)).toBeLessThan(0.01);
    const hard = await tileImage(image, async (t) => bilinearResize(t, 1.5), { tileSize: 40, overlap: 8, scale: 1.5 });
    expect(maxAbsDiff(hard, bilinearResize(image, 1.5))).toBeLessThan(0.01);
  });

  it('reports progress per tile and cancels between tiles', async () => {
    const image = pattern(64, 64, 1);
    const progress: string[] = [];
    await tileImage(image, async (t) => t, {
      tileSize: 32,
      overlap: 4,
      scale: 1,
      onProgress: (done, total) => progress.push(`${done}/${total}`),
    });
    expect(progress).toEqual(['1/9', '2/9', '3/9', '4/9', '5/9', '6/9', '7/9', '8/9', '9/9']);

    const controller = new AbortController();
    let ran = 0;
    const run = tileImage(
      image,
      async (t) => {
        if (++ran === 2) controller.abort();
        return t;
      },
      { tileSize: 32, overlap: 4, scale: 1, signal: controller.signal },
    );
    await expect(run).rejects.toSatisfy((e) => isCoserError(e) && e.code === 'CANCELLED');
    expect(ran).toBe(2);
  });

  it('refuses tile results of the wrong size', async () => {
    const image = pattern(64, 64, 3);
    await expect(tileImage(image, async (t) => t, { tileSize: 32, overlap: 4, scale: 2 })).rejects.toMatchObject({
      code: 'MODEL_INCOMPATIBLE',
    });
  });
});
