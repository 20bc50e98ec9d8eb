// Every model installed in the default models folder (the defaults after `npm install`, plus whatever
// `coser models add` put there) runs through Upscale Image on an odd-sized photo in small tiles, which exercises
// each model's padding and size alignment, and stays within a few dB of bicubic or better (a conversion that
// misread a layer lands far below). Models in the catalogue but not installed are not fetched here.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createModelStore } from '@coser/nodes/node';
import type { ImageBuffer } from '@coser/runtime';
import { defaultModelsDir } from '@coser/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageMetrics } from '../packages/nodes/src/lib/metrics';
import { resampleImage } from '../packages/nodes/src/lib/resample';
import { SAMPLES_DIR } from './helpers/paths';
import { makeTempDir } from './helpers/temp-dir';
import { createUpscaleHarness, type UpscaleHarness } from './upscale-helpers';

const modelsDir = defaultModelsDir();
const installed = existsSync(modelsDir)
  ? (await createModelStore(modelsDir).list()).filter((m) => m.installed && m.inCatalogue).map((m) => m.entry)
  : [];

let harness: UpscaleHarness;
let remove: () => Promise<void> = async () => {};
let photo: ImageBuffer;
beforeAll(async () => {
  const temp = await makeTempDir('coser-models-run-');
  remove = temp.remove;
  harness = await createUpscaleHarness(temp.dir, [], modelsDir);
  photo = await harness.decode(path.join(SAMPLES_DIR, 'astronaut-lr.png'));
});
afterAll(async () => {
  await harness?.backend.releaseAll();
  await remove();
});

describe.skipIf(installed.length === 0)('installed models', () => {
  for (const entry of installed) {
    it(`${entry.name} upscales x${entry.scale} an odd-sized image in tiles`, async () => {
      // A reference at the output size, and the LR made from it: 33x29 pixels, so nothing divides evenly.
      const reference = resampleImage(photo, 33 * entry.scale, 29 * entry.scale, { filter: 'bicubic' });
      const lr = resampleImage(reference, 33, 29, { filter: 'bicubic' });
      const progress: number[] = [];
      const sr = await harness.run(
        lr,
        { model: entry.name, tileSize: 64, overlap: 8 },
        { progress: (v) => progress.push(v) },
      );
      expect([sr.width, sr.height, sr.channels]).toEqual([33 * entry.scale, 29 * entry.scale, 3]);
      expect(sr.meta?.models?.[0]?.name).toBe(entry.name);
      const bicubic = resampleImage(lr, sr.width, sr.height, { filter: 'bicubic' });
      const got = imageMetrics(sr, reference, 4).psnrY;
      const base = imageMetrics(bicubic, reference, 4).psnrY;
      // Anime, GAN-trained and strong-denoise models restyle photos on purpose (realesrgan-x4plus-anime lands about
      // 5 dB under bicubic on this blurry reference), so "near bicubic" is a 6 dB band; a misread layer gives noise.
      expect(got).toBeGreaterThan(base - 6);
    });
  }
});
