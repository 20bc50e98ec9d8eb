// Node-only (fs, crypto): writes a contract model set to disk. Exported from @coser/nodes/node.
import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_FILE } from '../contract';
import { MODEL_SET_FORMAT, MODEL_SET_VERSION, type ModelSetManifest } from '../model-set';
import { buildContractModels, type ContractModelOptions } from './models';

/**
 * Writes a tiny random-weight CoSeR model set into `dir` (created when missing): every contract file with the
 * contract's exact input/output names, dtypes, ranks and dynamic dims, the text-context tensors, and
 * `coser-set.json` with each file's sha256. Cheap enough that a 50-step run of a 32 px image takes seconds, yet
 * every output depends on every input, so wiring mistakes show. Returns the manifest.
 *
 * @example
 * const manifest = await writeContractModelSet('/tmp/coser-set', { channels: 8, tokens: 16, seed: 1 });
 */
export async function writeContractModelSet(
  dir: string,
  options: ContractModelOptions = {},
): Promise<ModelSetManifest> {
  await mkdir(dir, { recursive: true });
  const files = buildContractModels(options);
  const manifest: ModelSetManifest = {
    format: MODEL_SET_FORMAT,
    version: MODEL_SET_VERSION,
    name: 'coser-contract',
    description:
      `Random-weight contract models (channels ${options.channels ?? 8}, token width ${options.tokens ?? 16}, ` +
      `seed ${options.seed ?? 0}) for tests and benchmarks: they fit the contract but restore nothing.`,
    tokenWidth: options.tokens ?? 16,
    contract: true,
    files: {},
  };
  for (const [name, file] of files) {
    await writeAtomic(join(dir, name), file.bytes);
    const sha256 = createHash('sha256').update(file.bytes).digest('hex');
    manifest.files[name] =
      file.kind === 'onnx'
        ? {
            kind: 'onnx',
            sha256,
            sizeBytes: file.bytes.byteLength,
            inputs: [...file.inputs!],
            outputs: [...file.outputs!],
          }
        : { kind: 'tensor', sha256, sizeBytes: file.bytes.byteLength, dtype: 'float32', shape: [...file.shape!] };
  }
  await writeAtomic(join(dir, MANIFEST_FILE), new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
  return manifest;
}

async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}
