// @coser/nodes main entry: node definitions, the default registry and browser-safe helpers. The editor's Web
// Worker imports this file, so nothing here (or below it) may import fs, path, Buffer, process or sharp; Node-only
// pieces live in ./node-only.ts (`@coser/nodes/node`).

import type { AnyNodeDefinition, NodeRegistry } from '@coser/runtime';
import { createRegistry } from '@coser/runtime';
import { aiaSample } from './coser/aia-sample';
import { cognitiveEncode } from './coser/cognitive-encode';
import { generateReference } from './coser/generate-reference';
import { loadModelSet } from './coser/load-model-set';
import { preSr } from './coser/pre-sr';
import { textContext } from './coser/text-context';
import { tiledSuperResolve } from './coser/tiled-super-resolve';
import { vaeDecode } from './coser/vae-decode';
import { vaeEncode } from './coser/vae-encode';
import { colorFix } from './image/color-fix';
import { crop } from './image/crop';
import { degrade } from './image/degrade';
import { resize } from './image/resize';
import { loadImage } from './io/load-image';
import { saveImage } from './io/save-image';
import { compare } from './metrics/compare';
import { loadModel } from './upscale/load-model';
import { upscaleImage } from './upscale/upscale-image';

export { defineNode, port } from '@coser/runtime';
export { aiaSample } from './coser/aia-sample';
export { cognitiveEncode } from './coser/cognitive-encode';
export type { ContractFile, ContractTensor } from './coser/contract';
export { COSER_CONTRACT, MANIFEST_FILE } from './coser/contract';
export type { ContractModelFile, ContractModelOptions } from './coser/contract/models';
export { buildContractModels } from './coser/contract/models';
export { generateReference } from './coser/generate-reference';
export { loadModelSet } from './coser/load-model-set';
export type { ModelSetManifest } from './coser/model-set';
export {
  checkManifest,
  inspectModelSet,
  MODEL_SET_FORMAT,
  MODEL_SET_VERSION,
  modelSetManifestSchema,
} from './coser/model-set';
export { preSr } from './coser/pre-sr';
export type { GaussianRng } from './coser/rng';
export { createGaussianRng } from './coser/rng';
export type { SampleOptions, SamplerMethod, SamplerStep } from './coser/sampler';
export { applyGuidance, diffuseToStart, sample } from './coser/sampler';
export type { RespacedSchedule } from './coser/schedule';
export { baseSchedule, respaceSchedule } from './coser/schedule';
export { textContext } from './coser/text-context';
export { tiledSuperResolve } from './coser/tiled-super-resolve';
export { vaeDecode } from './coser/vae-decode';
export { vaeEncode } from './coser/vae-encode';
export { colorFix } from './image/color-fix';
export { crop } from './image/crop';
export { degrade } from './image/degrade';
export { resize } from './image/resize';
export { loadImage } from './io/load-image';
export type { Provenance } from './io/save-image';
export { saveImage } from './io/save-image';
export { lumaY, rgbToYCbCr, yCbCrToRgb } from './lib/color';
export type { Plane255 } from './lib/metrics';
export { imageMetrics, psnr, ssim } from './lib/metrics';
export { planarToSamples, samplesToPlanar } from './lib/pixels';
export {
  addPngTextChunks,
  crc32,
  GRAPH_KEYWORD,
  makeITxtChunk,
  PROVENANCE_KEYWORD,
  readEmbeddedGraph,
  readPngTextChunks,
} from './lib/png-text';
export type { ResampleFilter, ResampleOptions } from './lib/resample';
export { resampleImage, resamplePlane } from './lib/resample';
export type { SniffedFormat } from './lib/sniff-image';
export { sniffImageFormat } from './lib/sniff-image';
export { compare } from './metrics/compare';
export { DEFAULT_MODELS, findCatalogueEntry, MODEL_CATALOGUE } from './models/catalogue';
export type { GraphModelRef } from './models/graph-models';
export { graphModelRefs } from './models/graph-models';
export type { CatalogueModel, InstallProgress, InstallState } from './models/manager-types';
export type { InstalledModel, ModelEntry, ModelSourceSpec } from './models/manifest';
export {
  addCommand,
  installedModelSchema,
  isForbiddenModelFile,
  modelEntrySchema,
  readSrEntry,
} from './models/manifest';
export type {
  OnnxAttribute,
  OnnxAttributeValue,
  OnnxDType,
  OnnxGraphBuilderOptions,
  OnnxNodeOptions,
} from './onnx/builder';
export { attr, OnnxGraphBuilder } from './onnx/builder';
export type { OnnxSummary, OnnxValueInfo } from './onnx/reader';
export { readOnnxSummary } from './onnx/reader';
export { loadModel } from './upscale/load-model';
export { upscaleImage } from './upscale/upscale-image';

/**
 * Node authoring conventions.
 *
 * - One node per file, `src/<category>/<kebab-name>.ts` exporting `camelName` (`image/color-fix.ts` exports
 *   `colorFix`), with `type` namespaced as `<category>.<camelName>`. Add the import and the entry in `allNodes` below.
 * - Params are a zod object; every field has a `.default()`, a `.describe()` and, for numbers, `.min()`/`.max()`.
 * - String params that need a special editor widget say so with zod's `.meta({ widget })`, which lands in the
 *   catalog's JSON Schema:
 *   - `'image-path'`: an input image file (picker / upload), read with `ctx.host.readInput`;
 *   - `'model'`: a model name from the model manifest (model picker);
 *   - `'model-set'`: a CoSeR model-set folder name;
 *   - `'output-name'`: an output file name template (`{name}`, `{node}`);
 *   - `'prompt'`: free text over several lines (a text prompt).
 *
 * @example
 * import { defineNode, port } from '@coser/nodes';
 * import { z } from 'zod';
 *
 * export const invert = defineNode({
 *   type: 'image.invert', typeVersion: 1, title: 'Invert', category: 'image', description: 'Inverts colours.',
 *   inputs: { image: port.image() }, outputs: { image: port.image() },
 *   params: z.object({
 *     model: z.string().default('').describe('Model to use').meta({ widget: 'model' }),
 *     amount: z.number().min(0).max(1).default(1).describe('How much to invert'),
 *   }),
 *   async execute({ image }, params) { return { image: invertPixels(image, params.amount) }; },
 * });
 */
export type ParamWidget = 'image-path' | 'model' | 'model-set' | 'output-name';

/** Every node this package provides, in catalog order. */
export const allNodes: readonly AnyNodeDefinition[] = [
  loadImage,
  saveImage,
  resize,
  crop,
  colorFix,
  degrade,
  compare,
  loadModel,
  upscaleImage,
  loadModelSet,
  preSr,
  cognitiveEncode,
  textContext,
  vaeEncode,
  generateReference,
  aiaSample,
  vaeDecode,
  tiledSuperResolve,
];

/**
 * A registry of all built-in nodes (a new one per call: registries are explicit, never global).
 *
 * @example
 * const registry = createDefaultRegistry();
 * registry.get('image.resize');
 */
export function createDefaultRegistry(): NodeRegistry {
  return createRegistry(allNodes);
}
