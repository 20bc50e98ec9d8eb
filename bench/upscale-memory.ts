// Peak memory (OS maxRSS) and time of an x4 upscale of a 2048x2048 photo with esrgan-medium-x4 (the default
// graph's model): tileSize "auto" (under the default 2 GB budget) against fixed tile sizes. Each case runs in its
// own process so peaks don't mix. The 8192x8192 float output alone is 768 MiB.
// `npm run bench -- upscale-memory [SIZE]` (default 2048; COSER_BENCH_CASES=auto,256 to pick cases).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createImage, DEFAULT_LIMITS, type ImageBuffer } from '@coser/runtime';
import { resamplePlane } from '../packages/nodes/src/lib/resample';
import { makeTempDir } from '../test/helpers/temp-dir';
import { createUpscaleHarness } from '../test/upscale-helpers';

const MiB = 1024 * 1024;
const SIZE = Number(process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 2048);
const CASES = (process.env['COSER_BENCH_CASES'] ?? 'auto,128,256,512').split(',');
const SAMPLE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'graphs', 'samples', 'astronaut-lr.png');

async function photo(size: number, decode: (file: string) => Promise<ImageBuffer>): Promise<ImageBuffer> {
  const lr = await decode(SAMPLE);
  const data = new Float32Array(size * size * 3);
  const n = lr.width * lr.height;
  for (let c = 0; c < 3; c++)
    data.set(
      resamplePlane(lr.data.subarray(c * n, (c + 1) * n), lr.width, lr.height, size, size, { filter: 'bicubic' }),
      c * size * size,
    );
  return createImage(size, size, 3, data);
}

async function runCase(tile: string): Promise<void> {
  const { dir, remove } = await makeTempDir('coser-bench-mem-');
  try {
    const harness = await createUpscaleHarness(dir, ['esrgan-medium-x4']);
    const image = await photo(SIZE, (f) => harness.decode(f));
    const before = process.resourceUsage().maxRSS * 1024;
    const t0 = performance.now();
    const out = await harness.run(image, {
      model: 'esrgan-medium-x4',
      tileSize: tile === 'auto' ? 'auto' : Number(tile),
      overlap: 16,
    });
    const ms = performance.now() - t0;
    const peak = process.resourceUsage().maxRSS * 1024;
    process.stdout.write(
      `${JSON.stringify({ tile, chosen: out.meta?.tiles?.size, ms: Math.round(ms), peakMiB: Math.round(peak / MiB), beforeMiB: Math.round(before / MiB), out: `${out.width}x${out.height}` })}\n`,
    );
    await harness.backend.releaseAll();
  } finally {
    await remove();
  }
}

const caseArg = process.argv.indexOf('--case');
if (caseArg > 0) {
  await runCase(process.argv[caseArg + 1]!);
} else {
  console.log(
    `x4 upscale of ${SIZE}x${SIZE} with esrgan-medium-x4, budget ${DEFAULT_LIMITS.memoryBudgetBytes / MiB} MiB`,
  );
  console.log('tile     chosen  time      peak RSS');
  for (const tile of CASES) {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), String(SIZE), '--case', tile],
      {
        encoding: 'utf8',
        maxBuffer: 16 * MiB,
      },
    );
    const line = child.stdout.trim().split('\n').pop() ?? '';
    try {
      const r = JSON.parse(line) as { chosen: number; ms: number; peakMiB: number };
      console.log(
        `${tile.padEnd(8)} ${String(r.chosen).padEnd(7)} ${(r.ms / 1000).toFixed(1).padStart(6)} s  ${r.peakMiB} MiB${r.peakMiB < 2048 ? '' : '  (over 2 GiB)'}`,
      );
    } catch {
      console.log(`${tile.padEnd(8)} failed: ${child.stderr.trim().split('\n').slice(-3).join(' ')}`);
    }
  }
}
