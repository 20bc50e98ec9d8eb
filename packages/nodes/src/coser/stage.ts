import type { ExecuteContext, ImageMeta, InferenceSession, ModelSetRef, ModelSource, Tensor } from '@coser/runtime';
import { CoserError } from '@coser/runtime';
import { type CoserFileName, contractFile, EXPORT_DOCS } from './contract';
import { type ModelSetManifest, modelSetManifestSchema } from './model-set';

/** The parts of the execute context the CoSeR stages use (so that composite nodes can pass theirs down). */
export type StageContext = Pick<ExecuteContext, 'node' | 'signal' | 'backend' | 'host' | 'throwIfCancelled'>;

/** The typed manifest of a model-set port value (the Load Model Set node produced and checked it). */
export function setManifest(set: ModelSetRef): ModelSetManifest {
  const parsed = modelSetManifestSchema.safeParse(set.manifest);
  if (!parsed.success) throw new CoserError('MODEL_SET_INVALID', `model set '${set.name}' carries an invalid manifest`);
  return parsed.data;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Resolves one file of a set and checks its sha256 against the manifest when the bytes are in memory. */
export async function resolveSetFile(ctx: StageContext, set: ModelSetRef, file: CoserFileName): Promise<ModelSource> {
  if (!ctx.host.resolveModelFile) {
    throw new CoserError('MODEL_MISSING', 'this environment cannot open model sets', { node: ctx.node });
  }
  const entry = setManifest(set).files[file];
  if (!entry) {
    throw new CoserError('MODEL_MISSING', `model set '${set.name}' has no ${file}; see ${EXPORT_DOCS}`, {
      node: ctx.node,
    });
  }
  const { source } = await ctx.host.resolveModelFile(set.name, file);
  // Files over the host's in-memory limit are not re-hashed on every run; their size still catches truncation.
  const size = source.bytes?.byteLength ?? source.sizeBytes;
  if (entry.sizeBytes !== undefined && size !== undefined && size !== entry.sizeBytes) {
    throw new CoserError(
      'MODEL_CORRUPT',
      `${file} in model set '${set.name}' has ${size} bytes, its manifest says ${entry.sizeBytes} (changed or truncated)`,
      { node: ctx.node },
    );
  }
  if (source.bytes && (await sha256Hex(source.bytes)) !== entry.sha256) {
    throw new CoserError(
      'MODEL_CORRUPT',
      `${file} in model set '${set.name}' does not match the sha256 in its manifest (changed or truncated)`,
      { node: ctx.node },
    );
  }
  return { ...source, sha256: entry.sha256, name: `${set.name}/${file}` };
}

/**
 * Loads one contract file's session, checks its input/output names against the contract, runs `fn` and releases
 * the session again, so a pipeline holds only the stage it is running (COSER.md: load stage by stage).
 *
 * @example
 * const eps = await withStage(ctx, set, 'unet_gen.onnx', (s) => runStage(ctx, s, feeds, 'eps'));
 */
export async function withStage<T>(
  ctx: StageContext,
  set: ModelSetRef,
  files: CoserFileName | readonly CoserFileName[],
  fn: (...sessions: InferenceSession[]) => Promise<T>,
): Promise<T> {
  const list = typeof files === 'string' ? [files] : files;
  const loaded: { key: string; session: InferenceSession }[] = [];
  try {
    for (const file of list) {
      const source = await resolveSetFile(ctx, set, file);
      const session = await ctx.backend.load(source);
      loaded.push({ key: source.key, session });
      checkSessionNames(ctx, file, session);
    }
    return await fn(...loaded.map((l) => l.session));
  } finally {
    for (const { key } of loaded) await ctx.backend.release(key);
  }
}

function checkSessionNames(ctx: StageContext, file: CoserFileName, session: InferenceSession): void {
  const spec = contractFile(file);
  if (spec?.kind !== 'onnx') return;
  const inputs = new Set(session.inputs.map((t) => t.name));
  const outputs = new Set(session.outputs.map((t) => t.name));
  const lacking = [
    ...spec.inputs.filter((t) => !inputs.has(t.name)).map((t) => `input '${t.name}'`),
    ...spec.outputs.filter((t) => !outputs.has(t.name)).map((t) => `output '${t.name}'`),
  ];
  if (lacking.length) {
    throw new CoserError(
      'MODEL_INCOMPATIBLE',
      `${file} lacks the contract's ${lacking.join(', ')}; see ${EXPORT_DOCS}`,
      {
        node: ctx.node,
      },
    );
  }
}

/** Runs a session and returns the named float32 outputs (MODEL_INCOMPATIBLE when one is missing or not float32). */
export async function runStage<N extends string>(
  ctx: StageContext,
  session: InferenceSession,
  feeds: Record<string, Tensor>,
  names: readonly N[],
): Promise<Record<N, Tensor<'float32'>>> {
  ctx.throwIfCancelled();
  const result = await session.run(feeds, { signal: ctx.signal });
  const out = {} as Record<N, Tensor<'float32'>>;
  for (const name of names) {
    const t = result[name];
    if (t?.dtype !== 'float32') {
      throw new CoserError('MODEL_INCOMPATIBLE', `model output '${name}' is missing or not float32`, {
        node: ctx.node,
      });
    }
    out[name] = t as Tensor<'float32'>;
  }
  return out;
}

/** Reads a raw float32 tensor file of the set (the precomputed text contexts), checked against its manifest shape. */
export async function readSetTensor(
  ctx: StageContext,
  set: ModelSetRef,
  file: CoserFileName,
): Promise<Tensor<'float32'>> {
  const entry = setManifest(set).files[file];
  if (entry?.kind !== 'tensor') {
    throw new CoserError('MODEL_MISSING', `model set '${set.name}' has no tensor ${file}; see ${EXPORT_DOCS}`, {
      node: ctx.node,
    });
  }
  const source = await resolveSetFile(ctx, set, file);
  const bytes = source.bytes;
  const size = entry.shape.reduce((a, b) => a * b, 1);
  if (!bytes || bytes.byteLength !== size * 4) {
    throw new CoserError('MODEL_CORRUPT', `${file} should hold ${size} float32 values (${entry.shape.join('x')})`, {
      node: ctx.node,
    });
  }
  // Copy through a DataView: the bytes may be unaligned and the file is little-endian whatever the host.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = view.getFloat32(i * 4, true);
  return { dtype: 'float32', dims: [...entry.shape], data };
}

/** Provenance of an image a set produced: the set's files by name and sha256 (what saved outputs record). */
export function setProvenance(set: ModelSetRef, files: readonly CoserFileName[]): NonNullable<ImageMeta['models']> {
  const manifest = setManifest(set);
  return files.flatMap((file) => {
    const entry = manifest.files[file];
    return entry ? [{ name: `${set.name}/${file}`, sha256: entry.sha256 }] : [];
  });
}

/**
 * Provenance of an image a set produced, as image meta: the set's files by name and sha256 after those the input
 * already had, and, for a contract set, the note that its pixels mean nothing.
 */
export function setMeta(
  set: ModelSetRef,
  files: readonly CoserFileName[],
  from: ImageMeta | undefined,
): Pick<ImageMeta, 'models' | 'notes'> {
  const notes = [...(from?.notes ?? [])];
  const note = contractNote(set);
  if (note && !notes.includes(note)) notes.push(note);
  return {
    models: [...(from?.models ?? []), ...setProvenance(set, files)],
    ...(notes.length ? { notes } : {}),
  };
}

/** What an image made by a contract set must say about itself (undefined for a real set). */
export function contractNote(set: ModelSetRef): string | undefined {
  const manifest = setManifest(set);
  if (!manifest.contract) return undefined;
  return `made by contract models (model set '${manifest.name}'): random weights that fit the ONNX contract but restore nothing, so these pixels are meaningless by design; real CoSeR weights: ${EXPORT_DOCS}`;
}

/** The files a full CoSeR restoration runs (for provenance). */
export const PIPELINE_FILES: readonly CoserFileName[] = [
  'presr.onnx',
  'clip_vision.onnx',
  'cog_adapter.onnx',
  'positive.bin',
  'negative.bin',
  'vae_encoder.onnx',
  'controlnet.onnx',
  'unet_aia.onnx',
  'unet_gen.onnx',
];
