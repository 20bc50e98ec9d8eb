// Tiled against untiled x4 upscaling with esrgan-medium-x4 on one photo: time per tile size (the overlap costs
// recomputation) and how far each tiled result is from the untiled one (seams). Same process, same session.
// `npm run bench -- upscale-tiling [SIZE]` (default 384).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createImage, type ImageBuffer } from '@coser/runtime';
import { imageMetrics } from '../packages/nodes/src/lib/metrics';
import { resamplePlane } from '../packages/nodes/src/lib/resample';
import { makeTempDir } from '../test/helpers/temp-dir';
import { createUpscaleHarness } from '../test/upscale-helpers';

const SIZE = Number(process.argv[2] ?? 384);
const SAMPLE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'graphs', 'samples', 'chelsea-lr.png');

function enlarge(lr: ImageBuffer, size: number): ImageBuffer {
  const data = new Float32Array(size * size * 3);
  const n = lr.width * lr.height;
  for (let c = 0; c < 3; c++)
    data.set(
      resamplePlane(lr.data.subarray(c * n, (c + 1) * n), lr.width, lr.height, size, size, { filter: 'lanczos' }),
      c * size * size,
    );
  return createImage(size, size, 3, data);
}

const { dir, remove } = await makeTempDir('coser-bench-tiling-');
try {
  const harness = await createUpscaleHarness(dir, ['esrgan-medium-x4']);
  const image = enlarge(await harness.decode(SAMPLE), SIZE);
  // Warm-up: session creation and onnxruntime's first-run allocations are not what is compared.
  await harness.run(enlarge(image, 64), { model: 'esrgan-medium-x4', tileSize: 2048 });

  const time = async (tileSize: number, overlap: number) => {
    const t0 = performance.now();
    let tiles = 0;
    const out = await harness.run(
      image,
      { model: 'esrgan-medium-x4', tileSize, overlap },
      { progress: (_, max) => (tiles = max) },
    );
    return { out, ms: performance.now() - t0, tiles };
  };
  const whole = await time(2048, 16);
  console.log(`esrgan-medium x4 of ${SIZE}x${SIZE}`);
  console.log(`untiled: ${whole.ms.toFixed(0)} ms`);
  for (const [tile, overlap] of [
    [256, 16],
    [128, 16],
    [128, 32],
    [64, 16],
  ] as const) {
    if (tile >= SIZE) continue;
    const r = await time(tile, overlap);
    let max = 0;
    for (let i = 0; i < r.out.data.length; i++) max = Math.max(max, Math.abs(r.out.data[i]! - whole.out.data[i]!));
    const psnr = imageMetrics(r.out, whole.out, 0).psnr;
    console.log(
      `tile ${tile} overlap ${overlap}: ${r.tiles} tiles, ${r.ms.toFixed(0)} ms (${(r.ms / whole.ms).toFixed(2)}x untiled), vs untiled: max diff ${(max * 255).toFixed(2)}/255, PSNR ${psnr.toFixed(1)} dB`,
    );
  }
  await harness.backend.releaseAll();
} finally {
  await remove();
}
