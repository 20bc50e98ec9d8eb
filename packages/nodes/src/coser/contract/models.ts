import {
  COGNITIVE_TOKENS,
  CONTROL_MAPS,
  type ContractDim,
  IMAGE_TOKENS,
  LATENT_CHANNELS,
  TEXT_TOKENS,
} from '../contract';
import type { ManifestTensor } from '../model-set';
import { createGaussianRng, type GaussianRng } from '../rng';
import { Net } from './net';

/** Options of the contract-model generator. */
export interface ContractModelOptions {
  /** Feature width of the tiny convolutions (the real models use 64-1280). */
  readonly channels?: number;
  /** Width C of the token space (the real models: 1024). */
  readonly tokens?: number;
  /** Seed of the random weights. */
  readonly seed?: number;
}

/** One generated file: its bytes and, for ONNX files, the inputs/outputs the manifest records. */
export interface ContractModelFile {
  readonly kind: 'onnx' | 'tensor';
  readonly bytes: Uint8Array;
  readonly inputs?: readonly ManifestTensor[];
  readonly outputs?: readonly ManifestTensor[];
  readonly shape?: readonly number[];
}

type Shape = readonly ContractDim[];

/** Channel count of control map i in a contract model (the real ratios 1280 : 640 : 320, scaled down). */
export function contractMapChannels(i: number, channels: number): number {
  return Math.max(2, (CONTROL_MAPS[i]!.channels / 320) * Math.max(1, channels >> 1));
}

function io(
  net: Net,
  side: 'input' | 'output',
  name: string,
  dtype: 'float32' | 'int64',
  shape: Shape,
): ManifestTensor {
  if (side === 'input') net.b.input(name, dtype, shape);
  else net.b.output(name, dtype, shape);
  return { name, dtype, shape: [...shape] };
}

function finish(net: Net, inputs: ManifestTensor[], outputs: ManifestTensor[]): ContractModelFile {
  return { kind: 'onnx', bytes: net.b.toBytes(), inputs, outputs };
}

const spatial = (d: number): [string, string] => (d === 1 ? ['h', 'w'] : [`h/${d}`, `w/${d}`]);

/** x, t and context into a hidden state: conv + time embedding + cross-attention over the context tokens. */
function unetStem(net: Net, ch: number, C: number): { h: string; inputs: ManifestTensor[] } {
  const inputs = [
    io(net, 'input', 'x', 'float32', [1, LATENT_CHANNELS, 'h', 'w']),
    io(net, 'input', 't', 'int64', [1]),
    io(net, 'input', 'context', 'float32', [1, 'L', C]),
  ];
  const h0 = net.add(net.conv('x', LATENT_CHANNELS, ch, 3), net.timeEmbedding('t', ch));
  const cross = net.attention(net.tokens(h0, ch), 'context', ch, C, ch, ch);
  return { h: net.relu(net.add(h0, net.untokens(cross, h0))), inputs };
}

/**
 * Builds every file of a contract model set in memory (browser-safe): tiny random-weight ONNX models with the
 * contract's exact input/output names, dtypes, ranks and dynamic dims, plus the two text-context tensors.
 *
 * @example
 * const files = buildContractModels({ channels: 8, tokens: 16, seed: 1 });
 * files.get('unet_aia.onnx')!.bytes; // an ONNX model onnxruntime runs
 */
export function buildContractModels(options: ContractModelOptions = {}): Map<string, ContractModelFile> {
  const ch = options.channels ?? 8;
  const C = options.tokens ?? 16;
  const rng = createGaussianRng(options.seed ?? 0);
  const files = new Map<string, ContractModelFile>();
  files.set('presr.onnx', presr(rng, ch));
  files.set('clip_vision.onnx', clipVision(rng, C));
  files.set('cog_adapter.onnx', cogAdapter(rng, C));
  for (const name of ['positive.bin', 'negative.bin']) {
    const data = rng.fill(new Float32Array(TEXT_TOKENS * C));
    files.set(name, { kind: 'tensor', bytes: new Uint8Array(data.buffer), shape: [1, TEXT_TOKENS, C] });
  }
  files.set('vae_encoder.onnx', vaeEncoder(rng, ch));
  files.set('cfw_features.onnx', cfwFeatures(rng, ch));
  files.set('controlnet.onnx', controlnet(rng, ch, C));
  files.set('unet_aia.onnx', unetAia(rng, ch, C));
  files.set('unet_gen.onnx', unetGen(rng, ch, C));
  files.set('cfw_decoder.onnx', decoder(rng, ch, true));
  files.set('vae_decoder.onnx', decoder(rng, ch, false));
  // Last, so the weights of the files above stay what they were before it existed.
  files.set('clip_text.onnx', clipText(rng, C));
  return files;
}

function presr(rng: GaussianRng, ch: number): ContractModelFile {
  const net = new Net('presr', rng);
  const inputs = [io(net, 'input', 'lr', 'float32', [1, 3, 'h', 'w'])];
  const body = net.conv(net.relu(net.conv('lr', 3, ch, 3)), ch, 48, 3, { gain: 0.1 });
  const shuffled = net.op('DepthToSpace', [body], { blocksize: 4, mode: 'DCR' });
  net.add(shuffled, net.upscale('lr', 4, 'linear'), 'sr');
  return finish(net, inputs, [io(net, 'output', 'sr', 'float32', [1, 3, '4h', '4w'])]);
}

function clipVision(rng: GaussianRng, C: number): ContractModelFile {
  const net = new Net('clip_vision', rng);
  const inputs = [io(net, 'input', 'pixels', 'float32', [1, 3, 224, 224])];
  const patches = net.tokens(net.conv('pixels', 3, C, 14, { stride: 14 }), C);
  const cls = net.add(net.op('ReduceMean', [patches], { axes: [1], keepdims: 1 }), net.weights('cls', [1, 1, C], 0.5));
  const all = net.op('Concat', [cls, patches], { axis: 1 });
  net.add(all, net.attention(all, all, C, C, C, C), 'tokens');
  return finish(net, inputs, [io(net, 'output', 'tokens', 'float32', [1, IMAGE_TOKENS, C])]);
}

/** Token ids -> context: an embedding (ids folded onto 1024 rows), positions, then self-attention over the tokens. */
function clipText(rng: GaussianRng, C: number): ContractModelFile {
  const net = new Net('clip_text', rng);
  const inputs = [io(net, 'input', 'input_ids', 'int64', [1, TEXT_TOKENS])];
  const rows = net.op('Mod', ['input_ids', net.constI('vocab_rows', [1024])]);
  const embedded = net.op('Gather', [net.weights('token_embedding', [1024, C], 1), rows], { axis: 0 });
  const positioned = net.add(embedded, net.weights('positions', [1, TEXT_TOKENS, C], 0.1));
  net.add(positioned, net.attention(positioned, positioned, C, C, C, C), 'context');
  return finish(net, inputs, [io(net, 'output', 'context', 'float32', [1, TEXT_TOKENS, C])]);
}

function cogAdapter(rng: GaussianRng, C: number): ContractModelFile {
  const net = new Net('cog_adapter', rng);
  const inputs = [io(net, 'input', 'tokens', 'float32', [1, IMAGE_TOKENS, C])];
  const queries = net.weights('queries', [1, COGNITIVE_TOKENS, C], 1);
  const attended = net.add(queries, net.attention(queries, 'tokens', C, C, C, C));
  const ffn = net.linear(net.relu(net.linear(attended, C, 2 * C)), 2 * C, C);
  net.add(attended, ffn, 'cognitive');
  return finish(net, inputs, [io(net, 'output', 'cognitive', 'float32', [1, COGNITIVE_TOKENS, C])]);
}

function vaeEncoder(rng: GaussianRng, ch: number): ContractModelFile {
  const net = new Net('vae_encoder', rng);
  const inputs = [io(net, 'input', 'image', 'float32', [1, 3, 'H', 'W'])];
  const a = net.relu(net.conv('image', 3, ch, 3, { stride: 2 }));
  const b = net.relu(net.conv(a, ch, ch, 3, { stride: 2 }));
  net.conv(b, ch, LATENT_CHANNELS, 3, { stride: 2, gain: 4, out: 'latent' });
  return finish(net, inputs, [io(net, 'output', 'latent', 'float32', [1, LATENT_CHANNELS, 'H/8', 'W/8'])]);
}

function cfwFeatures(rng: GaussianRng, ch: number): ContractModelFile {
  const net = new Net('cfw_features', rng);
  const inputs = [io(net, 'input', 'image', 'float32', [1, 3, 'H', 'W'])];
  const f2 = net.op('Relu', [net.conv('image', 3, ch, 3, { stride: 2 })], undefined, 'f2');
  net.op('Relu', [net.conv(f2, ch, 2 * ch, 3, { stride: 2 })], undefined, 'f4');
  return finish(net, inputs, [
    io(net, 'output', 'f2', 'float32', [1, ch, 'H/2', 'W/2']),
    io(net, 'output', 'f4', 'float32', [1, 2 * ch, 'H/4', 'W/4']),
  ]);
}

function decoder(rng: GaussianRng, ch: number, cfw: boolean): ContractModelFile {
  const net = new Net(cfw ? 'cfw_decoder' : 'vae_decoder', rng);
  const inputs = [io(net, 'input', 'z', 'float32', [1, LATENT_CHANNELS, 'h', 'w'])];
  const hidden = net.relu(net.conv('z', LATENT_CHANNELS, ch, 3));
  let pixels = net.op('DepthToSpace', [net.conv(hidden, ch, 3 * 64, 3)], { blocksize: 8, mode: 'DCR' });
  if (cfw) {
    inputs.push(io(net, 'input', 'f2', 'float32', [1, ch, '4h', '4w']));
    inputs.push(io(net, 'input', 'f4', 'float32', [1, 2 * ch, '2h', '2w']));
    inputs.push(io(net, 'input', 'w', 'float32', [1]));
    const fused = net.add(net.upscale(net.conv('f2', ch, 3, 1), 2), net.upscale(net.conv('f4', 2 * ch, 3, 1), 4));
    pixels = net.add(pixels, net.mul(fused, 'w'));
  }
  net.op('Tanh', [pixels], undefined, 'image');
  return finish(net, inputs, [io(net, 'output', 'image', 'float32', [1, 3, '8h', '8w'])]);
}

function unetGen(rng: GaussianRng, ch: number, C: number): ContractModelFile {
  const net = new Net('unet_gen', rng);
  const { h, inputs } = unetStem(net, ch, C);
  net.conv(net.relu(net.conv(h, ch, ch, 3)), ch, LATENT_CHANNELS, 3, { out: 'eps' });
  return finish(net, inputs, [io(net, 'output', 'eps', 'float32', [1, LATENT_CHANNELS, 'h', 'w'])]);
}

function controlnet(rng: GaussianRng, ch: number, C: number): ContractModelFile {
  const net = new Net('controlnet', rng);
  const { h, inputs } = unetStem(net, ch, C);
  inputs.splice(1, 0, io(net, 'input', 'hint', 'float32', [1, LATENT_CHANNELS, 'h', 'w']));
  const level1 = net.add(h, net.conv('hint', LATENT_CHANNELS, ch, 3));
  const levels = new Map<number, string>([[1, level1]]);
  for (const d of [2, 4, 8]) levels.set(d, net.relu(net.conv(levels.get(d / 2)!, ch, ch, 3, { stride: 2 })));
  const outputs = CONTROL_MAPS.map((m, i) => {
    net.conv(levels.get(m.downscale)!, ch, contractMapChannels(i, ch), 1, { out: `ctrl_${i}` });
    return io(net, 'output', `ctrl_${i}`, 'float32', [1, contractMapChannels(i, ch), ...spatial(m.downscale)]);
  });
  return finish(net, inputs, outputs);
}

function unetAia(rng: GaussianRng, ch: number, C: number): ContractModelFile {
  const net = new Net('unet_aia', rng);
  const { h, inputs } = unetStem(net, ch, C);
  for (const prefix of ['lr', 'ref']) {
    CONTROL_MAPS.forEach((m, i) => {
      inputs.push(
        io(net, 'input', `${prefix}_${i}`, 'float32', [1, contractMapChannels(i, ch), ...spatial(m.downscale)]),
      );
    });
  }
  // Every LR and reference map enters through a 1x1 conv, upsampled back to the latent grid.
  let hidden = h;
  CONTROL_MAPS.forEach((m, i) => {
    const c = contractMapChannels(i, ch);
    const both = net.add(net.conv(`lr_${i}`, c, ch, 1, { gain: 0.5 }), net.conv(`ref_${i}`, c, ch, 1, { gain: 0.5 }));
    hidden = net.add(hidden, net.upscale(both, m.downscale));
  });
  // All-in-Attention at the middle block (1/8): (a) hard reference attention, LR tokens over reference tokens;
  // (b) LR attention, the pooled hidden state over LR tokens.
  const c0 = contractMapChannels(0, ch);
  const lrTokens = net.tokens('lr_0', c0);
  const refAttn = net.untokens(net.hardAttention(lrTokens, net.tokens('ref_0', c0), c0), 'lr_0');
  const pooled = net.pool(hidden, 8);
  const lrAttn = net.untokens(net.attention(net.tokens(pooled, ch), lrTokens, ch, c0, ch, ch), pooled);
  const middle = net.add(net.conv(refAttn, c0, ch, 1, { gain: 0.5 }), lrAttn);
  hidden = net.relu(net.add(hidden, net.upscale(middle, 8)));
  net.conv(hidden, ch, LATENT_CHANNELS, 3, { out: 'eps' });
  return finish(net, inputs, [io(net, 'output', 'eps', 'float32', [1, LATENT_CHANNELS, 'h', 'w'])]);
}
