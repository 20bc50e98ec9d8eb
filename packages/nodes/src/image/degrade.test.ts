import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeHost } from '../host/node-host';
import { planeStats } from '../lib/image-ops';
import { resampleImage } from '../lib/resample';
import { fakeContext, testImage } from '../test-support';
import { degrade } from './degrade';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'coser-degrade-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const defaults = degrade.params.parse({});
const off = { ...defaults, scale: 1 };

describe('image.degrade', () => {
  it('downscales by the factor with the chosen filter (the default is a plain bicubic x4 downscale)', async () => {
    const image = testImage(64, 48);
    const { image: out } = await degrade.execute({ image }, defaults, fakeContext());
    expect([out.width, out.height]).toEqual([16, 12]);
    expect(Array.from(out.data)).toEqual(Array.from(resampleImage(image, 16, 12, { filter: 'bicubic' }).data));
    expect(degrade.inferStatic!({ image: { width: 64, height: 48, channels: 3 } }, defaults)).toEqual({
      image: { width: 16, height: 12, channels: 3 },
    });
  });

  it('blur lowers contrast; noise is deterministic per seed and has the requested sigma', async () => {
    const image = testImage(64, 64);
    const blurred = (await degrade.execute({ image }, { ...off, blurSigma: 2 }, fakeContext())).image;
    expect(planeStats(blurred.data).std).toBeLessThan(planeStats(image.data).std);
    const flat = { ...image, data: new Float32Array(image.data.length).fill(0.5) };
    const noisy = (seed: number) => degrade.execute({ image: flat }, { ...off, noiseSigma: 25.5, seed }, fakeContext());
    const a = (await noisy(1)).image;
    const b = (await noisy(1)).image;
    const c = (await noisy(2)).image;
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(a.data)).not.toEqual(Array.from(c.data));
    const stats = planeStats(a.data);
    expect(stats.mean).toBeCloseTo(0.5, 2);
    expect(stats.std).toBeGreaterThan(0.09);
    expect(stats.std).toBeLessThan(0.11);
    expect(a.meta?.seeds).toEqual([1]);
  });

  it('JPEG re-compression goes through the host codec and keeps alpha', async () => {
    const host = createNodeHost({ inputRoots: [dir], outputDir: dir });
    const image = testImage(32, 32, 4);
    const { image: out } = await degrade.execute({ image }, { ...off, jpegQuality: 10 }, fakeContext({ host }));
    expect(out.channels).toBe(4);
    const size = 32 * 32;
    expect(Array.from(out.data.subarray(3 * size))).toEqual(Array.from(image.data.subarray(3 * size)));
    const diff = out.data.subarray(0, 3 * size).reduce((s, v, i) => s + Math.abs(v - image.data[i]!), 0);
    expect(diff / (3 * size)).toBeGreaterThan(0.005);
  });
});
