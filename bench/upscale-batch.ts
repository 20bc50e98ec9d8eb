// `coser run graphs/upscale-x4.json` over a folder of photos against the UpscalerJS equivalent: TF.js with its wasm
// backend running the same esrgan-medium x4 model.json, decoding and encoding with sharp likewise, in the same run.
// `npm run bench -- upscale-batch [SIZE] [COUNT]` (photos SIZE px square, default 128; COUNT default 10, max 40).
// The photos are the five shared sample HR images resized to SIZE (then mirrored/rotated for more than five); the wasm side runs single-threaded (Node has no
// cross-origin isolation to give it threads), as UpscalerJS does in Node without tfjs-node.
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import sharp from 'sharp';
import { readTfjsModel } from '../packages/nodes/src/convert/tfjs-files';
import { createModelStore } from '../packages/nodes/src/models/model-store';
import { findPackageDir } from '../packages/nodes/src/models/package-source';
import { SHARED_IMAGES_DIR } from '../test/helpers/paths';
import { makeTempDir } from '../test/helpers/temp-dir';

const SIZE = Number(process.argv[2] ?? 128);
const COUNT = Math.min(40, Number(process.argv[3] ?? 10));
const DATA = SHARED_IMAGES_DIR;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function makePhotos(dir: string): Promise<string[]> {
  const names = (await readdir(DATA)).filter((f) => f.endsWith('_hr.png')).sort();
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    const name = names[i % names.length]!;
    const variant = Math.floor(i / names.length);
    const file = path.join(dir, `${name.replace('_hr.png', '')}-${variant}.png`);
    let img = sharp(path.join(DATA, name)).resize(SIZE, SIZE, { kernel: 'cubic' });
    if (variant & 1) img = img.flop();
    if (variant & 2) img = img.flip();
    if (variant & 4) img = img.rotate(90);
    await writeFile(file, await img.png().toBuffer());
    files.push(file);
  }
  return files;
}

async function upscalerJsEquivalent(files: string[], outDir: string): Promise<{ totalMs: number; perImage: number[] }> {
  const require = createRequire(import.meta.url);
  const wasmDist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  setWasmPaths(`${wasmDist}/`);
  await tf.setBackend('wasm');
  const pkg = findPackageDir('@upscalerjs/esrgan-medium', path.dirname(require.resolve('@upscalerjs/esrgan-medium')));
  const t0 = performance.now();
  const { model, weights } = await readTfjsModel(path.join(pkg, 'models', 'x4', 'model.json'));
  const layersModel = await tf.loadLayersModel({
    load: async () => ({
      modelTopology: model.modelTopology as object,
      weightSpecs: model.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
      weightData: weights.slice().buffer,
    }),
  });
  const perImage: number[] = [];
  await mkdir(outDir, { recursive: true });
  for (const file of files) {
    const t = performance.now();
    const { data, info } = await sharp(await readFile(file))
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const output = tf.tidy(() => {
      const input = tf.tensor4d(Float32Array.from(data), [1, info.height, info.width, 3]);
      return (layersModel.predict(input) as tf.Tensor).clipByValue(0, 255).round().toInt();
    });
    const pixels = Uint8Array.from(await output.data());
    const [, h, w] = output.shape as [number, number, number, number];
    output.dispose();
    await writeFile(
      path.join(outDir, path.basename(file)),
      await sharp(pixels, { raw: { width: w, height: h, channels: 3 } })
        .png()
        .toBuffer(),
    );
    perImage.push(performance.now() - t);
  }
  layersModel.dispose();
  return { totalMs: performance.now() - t0, perImage };
}

const { dir, remove } = await makeTempDir('coser-bench-batch-');
try {
  const photos = await makePhotos(path.join(dir, 'photos'));
  const modelsDir = path.join(dir, 'models');
  await createModelStore(modelsDir).add('esrgan-medium-x4');

  const t0 = performance.now();
  const run = spawnSync(
    process.execPath,
    [
      path.join(ROOT, 'packages/server/bin/coser.js'),
      'run',
      path.join(ROOT, 'graphs/upscale-x4.json'),
      '--input',
      `image=${path.join(dir, 'photos')}`,
      '--output',
      path.join(dir, 'out-coser'),
      '--models',
      modelsDir,
    ],
    { encoding: 'utf8' },
  );
  const coserMs = performance.now() - t0;
  if (run.status !== 0) throw new Error(`coser run failed: ${run.stderr}`);
  const written = (await readdir(path.join(dir, 'out-coser'))).length;
  // The CLI prints each node's time per image: the upscale node's, after the first (session creation), is the
  // steady-state model cost including tiling and range conversion.
  const upscaleMs = [...`${run.stdout}${run.stderr}`.matchAll(/\[upscale\] done in (\d+) ms/g)].map((m) =>
    Number(m[1]),
  );
  const coserSteady = upscaleMs.slice(1).reduce((a, b) => a + b, 0) / Math.max(1, upscaleMs.length - 1);

  const tfjs = await upscalerJsEquivalent(photos, path.join(dir, 'out-tfjs'));
  const tfjsSteady = tfjs.perImage.slice(1).reduce((a, b) => a + b, 0) / Math.max(1, tfjs.perImage.length - 1);
  const tfjsFirst = tfjs.perImage[0] ?? 0;

  console.log(`esrgan-medium x4 on ${photos.length} photos of ${SIZE}x${SIZE} (outputs ${SIZE * 4}x${SIZE * 4})`);
  console.log(
    `coser run (whole CLI process: start, model load, decode, upscale, PNG encode, ${written} files): ${(coserMs / 1000).toFixed(2)} s, ${(coserMs / photos.length).toFixed(0)} ms per image`,
  );
  console.log(
    `UpscalerJS equivalent (tfjs wasm, in-process, model load included): ${(tfjs.totalMs / 1000).toFixed(2)} s, ${(tfjs.totalMs / photos.length).toFixed(0)} ms per image (steady state ${tfjsSteady.toFixed(0)} ms)`,
  );
  console.log(`ratio (UpscalerJS / coser, whole batch): ${(tfjs.totalMs / coserMs).toFixed(1)}x`);
  if (upscaleMs.length > 1)
    console.log(
      `steady state per image: coser upscale node ${coserSteady.toFixed(0)} ms vs UpscalerJS predict+codec ${tfjsSteady.toFixed(0)} ms (first image ${tfjsFirst.toFixed(0)} ms): ${(tfjsSteady / coserSteady).toFixed(1)}x`,
    );
} finally {
  await remove();
}
