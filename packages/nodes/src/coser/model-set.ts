import type { Diagnostic, Host } from '@coser/runtime';
import { isCoserError } from '@coser/runtime';
import { z } from 'zod';
import { CONTROL_MAPS, COSER_CONTRACT, type ContractDim, EXPORT_DOCS, MANIFEST_FILE } from './contract';

/** The manifest's `format` marker and the version this build reads and writes. */
export const MODEL_SET_FORMAT = 'coser-model-set';
export const MODEL_SET_VERSION = 1;

const dimSchema = z.union([z.number().int().min(-1), z.string().min(1).max(32)]);
const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'sha256 is 64 lowercase hex digits');

/** One input or output of an ONNX file, as the manifest records it (a string or -1 marks a dynamic dim). */
export const manifestTensorSchema = z
  .object({
    name: z.string().min(1).max(128),
    dtype: z.enum(['float32', 'float16', 'int64', 'int32', 'uint8']),
    shape: z.array(dimSchema).max(8),
  })
  .strict();

const onnxEntrySchema = z
  .object({
    kind: z.literal('onnx'),
    sha256: sha256Schema,
    sizeBytes: z.number().int().nonnegative().optional(),
    inputs: z.array(manifestTensorSchema).max(64),
    outputs: z.array(manifestTensorSchema).max(64),
  })
  .strict();

const tensorEntrySchema = z
  .object({
    kind: z.literal('tensor'),
    sha256: sha256Schema,
    sizeBytes: z.number().int().nonnegative().optional(),
    dtype: z.literal('float32'),
    shape: z.array(z.number().int().positive()).max(8),
  })
  .strict();

/** A file an ONNX model needs besides itself (external data of a model over 2 GB), listed so it is checked. */
const dataEntrySchema = z
  .object({
    kind: z.literal('data'),
    sha256: sha256Schema,
    sizeBytes: z.number().int().nonnegative().optional(),
  })
  .strict();

/**
 * `coser-set.json`, the manifest at the root of a model set folder.
 *
 * @example
 * { "format": "coser-model-set", "version": 1, "name": "coser-x4", "tokenWidth": 1024,
 *   "files": { "presr.onnx": { "kind": "onnx", "sha256": "...", "inputs": [...], "outputs": [...] },
 *              "positive.bin": { "kind": "tensor", "sha256": "...", "dtype": "float32", "shape": [1, 77, 1024] } } }
 */
export const modelSetManifestSchema = z
  .object({
    format: z.literal(MODEL_SET_FORMAT),
    version: z.literal(MODEL_SET_VERSION),
    name: z.string().min(1).max(200),
    description: z.string().max(10_000).optional(),
    /** Width C of the token space (1024 for OpenCLIP ViT-H). */
    tokenWidth: z.number().int().positive().max(65536),
    /**
     * True for random-weight contract models (`coser models contract-set`): they fit the contract but restore
     * nothing. Images they make carry a note saying so (results, provenance).
     */
    contract: z.boolean().optional(),
    files: z.record(
      z.string().regex(/^[A-Za-z0-9_.-]+$/, 'file names are plain names inside the set folder'),
      z.discriminatedUnion('kind', [onnxEntrySchema, tensorEntrySchema, dataEntrySchema]),
    ),
  })
  .strict();

export type ModelSetManifest = z.infer<typeof modelSetManifestSchema>;
export type ManifestTensor = z.infer<typeof manifestTensorSchema>;
export type ManifestEntry = ModelSetManifest['files'][string];

const hint = `see ${EXPORT_DOCS} for how to export one`;

function dimText(shape: readonly (number | string)[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Whether a manifest dim satisfies a contract dim. Where the contract fixes a size (a number, or the token width
 * C) the manifest must state that size: a symbolic dim there (an export through torch.chunk makes the VAE
 * encoder's 4 latent channels symbolic) would let a wrong size through to run time. Elsewhere a symbolic dim
 * (a string, or -1) accepts what is fed.
 */
function dimFits(contract: ContractDim, actual: number | string, tokenWidth: number): boolean {
  if (typeof contract === 'number') return actual === contract;
  if (contract === 'C') return actual === tokenWidth;
  return true;
}

/**
 * Checks a parsed-or-not manifest against the contract (pure, no I/O): format and version, every required file
 * present, names, dtypes, ranks and fixed dims of every input/output, the token width, and that feature-map
 * channels agree between the files that exchange them. Returns the manifest when it parsed, and diagnostics
 * (MODEL_SET_INVALID) naming each file and tensor at fault.
 *
 * @example
 * const { manifest, diagnostics } = checkManifest(JSON.parse(text));
 */
export function checkManifest(value: unknown): { manifest?: ModelSetManifest; diagnostics: Diagnostic[] } {
  const error = (message: string): Diagnostic => ({
    severity: 'error',
    code: 'MODEL_SET_INVALID',
    message,
    param: 'set',
  });
  const head = z.object({ format: z.unknown(), version: z.unknown() }).safeParse(value);
  if (!head.success || head.data.format !== MODEL_SET_FORMAT) {
    return {
      diagnostics: [
        error(`${MANIFEST_FILE} is not a CoSeR model-set manifest (format must be '${MODEL_SET_FORMAT}'); ${hint}`),
      ],
    };
  }
  if (head.data.version !== MODEL_SET_VERSION) {
    return {
      diagnostics: [
        error(
          `${MANIFEST_FILE} has version ${JSON.stringify(head.data.version)}; this build reads version ${MODEL_SET_VERSION}; ${hint}`,
        ),
      ],
    };
  }
  const parsed = modelSetManifestSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    return { diagnostics: [error(`${MANIFEST_FILE} is invalid: ${issues.join('; ')}; ${hint}`)] };
  }
  const manifest = parsed.data;
  const C = manifest.tokenWidth;
  const diagnostics: Diagnostic[] = [];
  const missing: string[] = [];
  for (const spec of COSER_CONTRACT) {
    const entry = manifest.files[spec.file];
    if (!entry) {
      if (!spec.optional) missing.push(spec.file);
      continue;
    }
    if (entry.kind !== spec.kind) {
      diagnostics.push(error(`${spec.file} must be an ${spec.kind} entry, the manifest says ${entry.kind}`));
      continue;
    }
    if (spec.kind === 'tensor' && entry.kind === 'tensor') {
      const want = spec.shape.map((d) => (d === 'C' ? C : d));
      if (entry.shape.length !== want.length || entry.shape.some((d, i) => d !== want[i])) {
        diagnostics.push(error(`${spec.file} has shape ${dimText(entry.shape)}, the contract needs ${dimText(want)}`));
      }
      continue;
    }
    if (spec.kind !== 'onnx' || entry.kind !== 'onnx') continue;
    for (const [side, wanted, actual] of [
      ['input', spec.inputs, entry.inputs],
      ['output', spec.outputs, entry.outputs],
    ] as const) {
      for (const want of wanted) {
        const got = actual.find((t) => t.name === want.name);
        if (!got) {
          diagnostics.push(error(`${spec.file} has no ${side} '${want.name}' (${want.dtype} ${dimText(want.shape)})`));
          continue;
        }
        if (got.dtype !== want.dtype) {
          diagnostics.push(
            error(`${spec.file} ${side} '${want.name}' is ${got.dtype}, the contract needs ${want.dtype}`),
          );
        }
        const fits = got.shape.length === want.shape.length && want.shape.every((d, i) => dimFits(d, got.shape[i]!, C));
        if (!fits) {
          const symbolic = want.shape.some(
            (d, i) => (typeof d === 'number' || d === 'C') && (typeof got.shape[i] !== 'number' || got.shape[i] === -1),
          );
          diagnostics.push(
            error(
              `${spec.file} ${side} '${want.name}' has shape ${dimText(got.shape)}, the contract needs ${dimText(want.shape)} (C = ${C})` +
                (symbolic ? '; a symbolic dim where the contract fixes the size: export it as a fixed size' : ''),
            ),
          );
        }
      }
    }
    // An input the contract does not know cannot be fed.
    for (const extra of entry.inputs.filter((t) => !spec.inputs.some((w) => w.name === t.name))) {
      diagnostics.push(error(`${spec.file} has an input '${extra.name}' the contract does not feed`));
    }
  }
  if (missing.length) {
    diagnostics.push(error(`the manifest does not list ${missing.join(', ')}; ${hint}`));
  }
  diagnostics.push(...checkChannelAgreement(manifest).map(error));
  return { manifest, diagnostics };
}

/** Feature maps pass between files: their channel counts (free in the contract) must agree where both are fixed. */
function checkChannelAgreement(manifest: ModelSetManifest): string[] {
  const problems: string[] = [];
  const channels = (file: string, side: 'inputs' | 'outputs', name: string): number | undefined => {
    const entry = manifest.files[file];
    if (entry?.kind !== 'onnx') return undefined;
    const d = entry[side].find((t) => t.name === name)?.shape[1];
    return typeof d === 'number' && d > 0 ? d : undefined;
  };
  const pairs: [string, string, string, string][] = [];
  CONTROL_MAPS.forEach((_, i) => {
    pairs.push(['controlnet.onnx', `ctrl_${i}`, 'unet_aia.onnx', `lr_${i}`]);
    pairs.push(['controlnet.onnx', `ctrl_${i}`, 'unet_aia.onnx', `ref_${i}`]);
  });
  pairs.push(
    ['cfw_features.onnx', 'f2', 'cfw_decoder.onnx', 'f2'],
    ['cfw_features.onnx', 'f4', 'cfw_decoder.onnx', 'f4'],
  );
  for (const [fromFile, fromName, toFile, toName] of pairs) {
    const a = channels(fromFile, 'outputs', fromName);
    const b = channels(toFile, 'inputs', toName);
    if (a !== undefined && b !== undefined && a !== b) {
      problems.push(`${fromFile} output '${fromName}' has ${a} channels but ${toFile} input '${toName}' takes ${b}`);
    }
  }
  return problems;
}

/**
 * Reads and checks a model set through the host: the manifest (MODEL_MISSING when absent), the contract
 * ({@link checkManifest}), and that every listed file exists (MODEL_MISSING naming the files). Never throws.
 *
 * @example
 * const { manifest, diagnostics } = await inspectModelSet(ctx.host, params.set);
 */
export async function inspectModelSet(
  host: Host,
  set: string,
): Promise<{ manifest?: ModelSetManifest; diagnostics: Diagnostic[] }> {
  const missing = (message: string): Diagnostic => ({
    severity: 'error',
    code: 'MODEL_MISSING',
    message,
    param: 'set',
  });
  if (!host.resolveModelFile) {
    return { diagnostics: [missing('this environment cannot open model sets (no model folder configured)')] };
  }
  let manifestValue: unknown;
  try {
    const resolved = await host.resolveModelFile(set, MANIFEST_FILE);
    const bytes = resolved.source.bytes;
    if (!bytes) throw new Error(`${MANIFEST_FILE} could not be read`);
    manifestValue = JSON.parse(new TextDecoder().decode(bytes));
  } catch (cause) {
    if (cause instanceof SyntaxError) {
      return {
        diagnostics: [
          {
            severity: 'error',
            code: 'MODEL_SET_INVALID',
            message: `${MANIFEST_FILE} in model set '${set}' is not JSON; ${hint}`,
            param: 'set',
          },
        ],
      };
    }
    const why =
      isCoserError(cause) && cause.code !== 'MODEL_MISSING' && cause.code !== 'FILE_NOT_FOUND'
        ? ` (${cause.message})`
        : '';
    const files = COSER_CONTRACT.filter((f) => !f.optional).map((f) => f.file);
    return {
      diagnostics: [
        missing(
          `model set '${set}' has no ${MANIFEST_FILE}${why}: a CoSeR model set needs ${MANIFEST_FILE} and ${files.join(', ')}; ${hint}`,
        ),
      ],
    };
  }
  const { manifest, diagnostics } = checkManifest(manifestValue);
  if (!manifest) return { diagnostics };
  const absent: string[] = [];
  for (const file of Object.keys(manifest.files)) {
    try {
      await host.resolveModelFile(set, file);
    } catch (cause) {
      if (isCoserError(cause) && cause.code !== 'MODEL_MISSING' && cause.code !== 'FILE_NOT_FOUND') {
        diagnostics.push({ severity: 'error', code: cause.code, message: `${file}: ${cause.message}`, param: 'set' });
      } else absent.push(file);
    }
  }
  if (absent.length)
    diagnostics.push(missing(`model set '${set}' lacks ${absent.join(', ')} (listed in ${MANIFEST_FILE}); ${hint}`));
  return { manifest, diagnostics };
}
