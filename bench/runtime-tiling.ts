// Peak memory of a bilinear x2 resize of a 4096x4096 RGB image, untiled vs tiled with tileImage, plus a
// "model-like" tile function that holds 16 float32 feature planes per input pixel (what makes tiling matter).
// Each case runs in its own process so peaks don't mix; peak RSS comes from the OS (maxRSS), arrayBuffers is
// sampled (after a forced GC: live bytes) after each tile and at the end.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createImage, type ImageBuffer, tileImage } from '@coser/runtime';
import { bilinearResize } from '../packages/runtime/src/testing/resize';

const SIZE = Number(process.env['COSER_BENCH_SIZE'] ?? 4096);
const TILE = 512;
const OVERLAP = 16;
const FEATURES = 16;
const MB = 1024 * 1024;
const cases = ['untiled-resize', 'tiled-resize', 'untiled-model', 'tiled-model'] as const;
type Case = (typeof cases)[number];

/** A stand-in for a network: allocates FEATURES planes at the input size, then resizes. */
function modelLike(image: ImageBuffer, sample: () => void): ImageBuffer {
  const features = new Float32Array(image.width * image.height * FEATURES);
  for (let i = 0; i < features.length; i += 4096) features[i] = image.data[i % image.data.length]!;
  const out = bilinearResize(image, 2);
  sample(); // while the activations are alive
  out.data[0] = out.data[0]! + features[0]! * 0;
  return out;
}

async function runCase(name: Case): Promise<void> {
  const image = createImage(SIZE, SIZE, 3);
  for (let i = 0; i < image.data.length; i++) image.data[i] = (i % 251) / 251;
  const baseline = process.memoryUsage();
  let peakArrayBuffers = baseline.arrayBuffers;
  const gc = (globalThis as { gc?: () => void }).gc;
  let samplingMs = 0;
  const sample = () => {
    const sampleStart = performance.now();
    // Collect first so the figure is live memory, not tiles V8 has not got round to freeing yet. The time this
    // takes is measured and left out of the reported time.
    gc?.();
    peakArrayBuffers = Math.max(peakArrayBuffers, process.memoryUsage().arrayBuffers);
    samplingMs += performance.now() - sampleStart;
  };
  const fn = name.endsWith('model')
    ? (tile: ImageBuffer) => modelLike(tile, sample)
    : (tile: ImageBuffer) => bilinearResize(tile, 2);
  const start = performance.now();
  let out: ImageBuffer;
  if (name.startsWith('untiled')) {
    out = fn(image);
    sample();
  } else {
    out = await tileImage(
      image,
      async (tile) => {
        const result = fn(tile);
        sample();
        return result;
      },
      { tileSize: TILE, overlap: OVERLAP, scale: 2 },
    );
    sample();
  }
  const ms = performance.now() - start - samplingMs;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  console.log(
    JSON.stringify({
      name,
      ms,
      out: `${out.width}x${out.height}`,
      inputMB: image.data.byteLength / MB,
      outputMB: out.data.byteLength / MB,
      peakRssMB: peakRss / MB,
      baselineRssMB: baseline.rss / MB,
      peakArrayBuffersMB: peakArrayBuffers / MB,
    }),
  );
}

const mode = process.argv[2] as Case | undefined;
if (mode && (cases as readonly string[]).includes(mode)) {
  await runCase(mode);
} else {
  const self = fileURLToPath(import.meta.url);
  console.log(
    `bilinear x2 of ${SIZE}x${SIZE}x3 float32; tiles ${TILE} px, overlap ${OVERLAP}; model-like = +${FEATURES} feature planes`,
  );
  const rows: Record<string, number | string>[] = [];
  for (const name of cases) {
    const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, name], { encoding: 'utf8' });
    const line = child.stdout.trim().split('\n').at(-1) ?? '';
    if (child.status !== 0 || !line.startsWith('{')) {
      console.log(`${name}: failed (${child.status}) ${child.stderr.slice(-500)}`);
      continue;
    }
    rows.push(JSON.parse(line));
  }
  for (const r of rows) {
    console.log(
      `${String(r['name']).padEnd(15)} ${Number(r['ms']).toFixed(0).padStart(6)} ms   peak RSS ${Number(r['peakRssMB']).toFixed(0).padStart(5)} MB   peak arrayBuffers ${Number(r['peakArrayBuffersMB']).toFixed(0).padStart(5)} MB   (input ${Number(r['inputMB']).toFixed(0)} MB, output ${Number(r['outputMB']).toFixed(0)} MB)`,
    );
  }
  const by = (n: string) => rows.find((r) => r['name'] === n);
  for (const kind of ['resize', 'model']) {
    const u = by(`untiled-${kind}`);
    const t = by(`tiled-${kind}`);
    if (u && t) {
      console.log(
        `${kind}: tiled/untiled peak RSS ${(Number(t['peakRssMB']) / Number(u['peakRssMB'])).toFixed(2)}, time ${(Number(t['ms']) / Number(u['ms'])).toFixed(2)}`,
      );
    }
  }
}
