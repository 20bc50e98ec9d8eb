/**
 * The ONNX contract of a CoSeR model set (COSER.md): one file per stage boundary with fixed input/output names,
 * dtypes and ranks. Dims are numbers (fixed), 'C' (the set's token width, 1024 for the real models), '*' (any
 * size, e.g. feature-map channels, which only have to agree between files) or a symbolic name ('h', 'H/2', 'L').
 */

/** A dimension in the contract. */
export type ContractDim = number | string;

export interface ContractTensor {
  readonly name: string;
  readonly dtype: 'float32' | 'int64';
  readonly shape: readonly ContractDim[];
}

export interface ContractOnnxFile {
  readonly file: string;
  readonly kind: 'onnx';
  /** Optional files may be left out of a set (clip_text.onnx when the text tensors are shipped). */
  readonly optional?: boolean;
  readonly stage: string;
  readonly inputs: readonly ContractTensor[];
  readonly outputs: readonly ContractTensor[];
}

export interface ContractTensorFile {
  readonly file: string;
  readonly kind: 'tensor';
  readonly optional?: boolean;
  readonly stage: string;
  readonly dtype: 'float32';
  readonly shape: readonly ContractDim[];
}

export type ContractFile = ContractOnnxFile | ContractTensorFile;

/** Number of CLIP text tokens (positive / negative contexts). */
export const TEXT_TOKENS = 77;
/** CLIP ViT-H-14 image tokens: class token + 16x16 patches. */
export const IMAGE_TOKENS = 257;
/** Learned queries of the cognitive adapter. */
export const COGNITIVE_TOKENS = 50;
/** CLIP's input size. */
export const CLIP_SIZE = 224;
/** SD's latent scale factor. */
export const LATENT_SCALE = 0.18215;
/** Latent channels of the SD VAE. */
export const LATENT_CHANNELS = 4;
/** Pixel size of one latent cell. */
export const VAE_FACTOR = 8;

/**
 * The 10 ControlNet feature maps the All-in-Attention blocks use, in the order the blocks consume them: the middle
 * block (1/8 of the latent), then the decoder's attention blocks at 1/4, 1/2 and full latent resolution. `channels`
 * is the real model's width (the contract leaves it free; a set must agree between controlnet and unet_aia).
 */
export const CONTROL_MAPS: readonly { readonly downscale: 1 | 2 | 4 | 8; readonly channels: number }[] = [
  { downscale: 8, channels: 1280 },
  { downscale: 4, channels: 1280 },
  { downscale: 4, channels: 1280 },
  { downscale: 4, channels: 640 },
  { downscale: 2, channels: 640 },
  { downscale: 2, channels: 640 },
  { downscale: 2, channels: 320 },
  { downscale: 1, channels: 320 },
  { downscale: 1, channels: 320 },
  { downscale: 1, channels: 320 },
];

const spatial = (d: number): [string, string] => (d === 1 ? ['h', 'w'] : [`h/${d}`, `w/${d}`]);
const controlMap = (prefix: string) =>
  CONTROL_MAPS.map(
    (m, i): ContractTensor => ({ name: `${prefix}_${i}`, dtype: 'float32', shape: [1, '*', ...spatial(m.downscale)] }),
  );

const latent = (name: string): ContractTensor => ({ name, dtype: 'float32', shape: [1, LATENT_CHANNELS, 'h', 'w'] });
const timestep: ContractTensor = { name: 't', dtype: 'int64', shape: [1] };
const context: ContractTensor = { name: 'context', dtype: 'float32', shape: [1, 'L', 'C'] };
const image = (name: string, h = 'H', w = 'W'): ContractTensor => ({ name, dtype: 'float32', shape: [1, 3, h, w] });

/** Every file of the contract, in pipeline order. */
export const COSER_CONTRACT: readonly ContractFile[] = [
  {
    file: 'presr.onnx',
    kind: 'onnx',
    stage: 'Pre-SR',
    inputs: [image('lr', 'h', 'w')],
    outputs: [image('sr', '4h', '4w')],
  },
  {
    file: 'clip_vision.onnx',
    kind: 'onnx',
    stage: 'Cognitive Encode',
    inputs: [{ name: 'pixels', dtype: 'float32', shape: [1, 3, CLIP_SIZE, CLIP_SIZE] }],
    outputs: [{ name: 'tokens', dtype: 'float32', shape: [1, IMAGE_TOKENS, 'C'] }],
  },
  {
    file: 'cog_adapter.onnx',
    kind: 'onnx',
    stage: 'Cognitive Encode',
    inputs: [{ name: 'tokens', dtype: 'float32', shape: [1, IMAGE_TOKENS, 'C'] }],
    outputs: [{ name: 'cognitive', dtype: 'float32', shape: [1, COGNITIVE_TOKENS, 'C'] }],
  },
  { file: 'positive.bin', kind: 'tensor', stage: 'Text Context', dtype: 'float32', shape: [1, TEXT_TOKENS, 'C'] },
  { file: 'negative.bin', kind: 'tensor', stage: 'Text Context', dtype: 'float32', shape: [1, TEXT_TOKENS, 'C'] },
  {
    file: 'clip_text.onnx',
    kind: 'onnx',
    optional: true,
    stage: 'Text Context',
    inputs: [{ name: 'input_ids', dtype: 'int64', shape: [1, TEXT_TOKENS] }],
    outputs: [{ name: 'context', dtype: 'float32', shape: [1, TEXT_TOKENS, 'C'] }],
  },
  {
    file: 'vae_encoder.onnx',
    kind: 'onnx',
    stage: 'VAE Encode',
    inputs: [image('image')],
    outputs: [{ name: 'latent', dtype: 'float32', shape: [1, LATENT_CHANNELS, 'H/8', 'W/8'] }],
  },
  {
    file: 'cfw_features.onnx',
    kind: 'onnx',
    stage: 'VAE Decode (CFW)',
    inputs: [image('image')],
    outputs: [
      { name: 'f2', dtype: 'float32', shape: [1, '*', 'H/2', 'W/2'] },
      { name: 'f4', dtype: 'float32', shape: [1, '*', 'H/4', 'W/4'] },
    ],
  },
  {
    file: 'controlnet.onnx',
    kind: 'onnx',
    stage: 'All-in-Attention Sample',
    inputs: [latent('x'), latent('hint'), timestep, context],
    outputs: controlMap('ctrl'),
  },
  {
    file: 'unet_aia.onnx',
    kind: 'onnx',
    stage: 'All-in-Attention Sample',
    inputs: [latent('x'), timestep, context, ...controlMap('lr'), ...controlMap('ref')],
    outputs: [latent('eps')],
  },
  {
    file: 'unet_gen.onnx',
    kind: 'onnx',
    stage: 'Generate Reference',
    inputs: [latent('x'), timestep, context],
    outputs: [latent('eps')],
  },
  {
    file: 'cfw_decoder.onnx',
    kind: 'onnx',
    stage: 'VAE Decode (CFW)',
    inputs: [
      latent('z'),
      { name: 'f2', dtype: 'float32', shape: [1, '*', '4h', '4w'] },
      { name: 'f4', dtype: 'float32', shape: [1, '*', '2h', '2w'] },
      { name: 'w', dtype: 'float32', shape: [1] },
    ],
    outputs: [image('image', '8h', '8w')],
  },
  {
    file: 'vae_decoder.onnx',
    kind: 'onnx',
    stage: 'VAE Decode',
    inputs: [latent('z')],
    outputs: [image('image', '8h', '8w')],
  },
];

/** The contract entry of a file name. */
export function contractFile(file: string): ContractFile | undefined {
  return COSER_CONTRACT.find((f) => f.file === file);
}

/** Contract file names, for messages. */
export type CoserFileName =
  | 'presr.onnx'
  | 'clip_vision.onnx'
  | 'cog_adapter.onnx'
  | 'positive.bin'
  | 'negative.bin'
  | 'clip_text.onnx'
  | 'vae_encoder.onnx'
  | 'cfw_features.onnx'
  | 'controlnet.onnx'
  | 'unet_aia.onnx'
  | 'unet_gen.onnx'
  | 'cfw_decoder.onnx'
  | 'vae_decoder.onnx';

/** The manifest file at the root of a model set. */
export const MANIFEST_FILE = 'coser-set.json';
/** Where users are sent when a set is missing or wrong. */
export const EXPORT_DOCS = 'docs/coser.md ("Producing a model set")';
