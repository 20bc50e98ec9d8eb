import type { ResolvedModel } from '@coser/runtime';
import { CoserError } from '@coser/runtime';

/** CoSeR model-set folders the user opened on this device (Load Model Set's "open folder…"), by folder name. */
export interface PickedModelSets {
  /** Keeps a folder's files (top level only: a set is flat) under its name; a later folder of that name wins. */
  add(name: string, files: readonly File[]): void;
  /**
   * A file of an opened set, as the web host's `resolveModelFile`. `.` (Load Model Set's default, "the models
   * folder itself") is the folder opened last. MODEL_MISSING says how to open one and where sets come from.
   */
  resolve(set: string, file: string): Promise<ResolvedModel>;
}

const WHERE_SETS_COME_FROM =
  'a CoSeR model set (coser-set.json and the ONNX file of each stage) is exported as docs/coser.md ("Producing a model set") describes; `npx coser models contract-set DIR` writes a small test set';

/**
 * Folders are kept as `File` handles: the browser reads a file only when a stage loads it, so opening a set of
 * several GB costs nothing until it runs (and then each stage is read, loaded and released in turn).
 */
export function createPickedModelSets(): PickedModelSets {
  const sets = new Map<string, Map<string, File>>();
  let last: string | undefined;
  return {
    add(name, files) {
      sets.set(name, new Map(files.map((f) => [f.name, f])));
      last = name;
    },
    async resolve(set, file) {
      const name = set === '.' || set === '' ? last : set;
      const folder = name === undefined ? undefined : sets.get(name);
      if (!folder) {
        throw new CoserError(
          'MODEL_MISSING',
          sets.size === 0
            ? `no model-set folder is open on this device: open one with Load Model Set's "open folder…"; ${WHERE_SETS_COME_FROM}`
            : `no model-set folder '${set}' is open on this device (open: ${[...sets.keys()].join(', ')}); ${WHERE_SETS_COME_FROM}`,
        );
      }
      const picked = folder.get(file);
      if (!picked) throw new CoserError('MODEL_MISSING', `the model-set folder '${name}' has no ${file}`);
      const bytes = new Uint8Array(await picked.arrayBuffer());
      return {
        source: {
          key: `set:${name}/${file}:${picked.size}:${picked.lastModified}`,
          name: `${name}/${file}`,
          bytes,
          sizeBytes: bytes.byteLength,
        },
        entry: { name: file },
      };
    },
  };
}
