import { readOnnxSummary } from '@coser/nodes';
import type { ResolvedModel } from '@coser/runtime';
import { CoserError } from '@coser/runtime';
import { NOT_AUTHORISED } from '../run/server-models';
import type { WebModelResolver } from './web-host';

/** A model as `GET /api/models` lists it: its manifest name plus the manifest entry's fields. */
export interface ModelListing extends Record<string, unknown> {
  name: string;
  sha256?: string;
}

export interface ModelLoaderOptions {
  /** Origin (or base URL) of the server that serves `/api/models`; the page's origin by default. */
  baseUrl: string;
  /** The server's token, when talking to `coser serve`. */
  token?: string;
  /** Models known without asking a server (manifest entries bundled with the editor). */
  builtIn?: readonly ModelListing[];
  fetch?: typeof fetch;
}

/** What became of a model file the user picked for a named model. */
export interface PickedModel {
  /** The name it runs under: the named model's when the file is that model, else the file's own name. */
  name: string;
  /** The file is the named model (same sha256 as the manifest the listing gave). */
  matched: boolean;
  sha256: string;
  /** Why it does not run as the named model (absent when it does). */
  reason?: string;
}

/** The worker's model resolver: server listing + downloads, files the user picked, and a cache of both. */
export interface ModelLoader extends WebModelResolver {
  /** A model file the user picked from disk, kept under `name` (it wins over the server's copy of that name). */
  addLocalFile(name: string, bytes: Uint8Array, entry?: Record<string, unknown>): void;
  /**
   * A model file picked for the model `name`: checked against that model's known sha256 (from the listing's
   * manifest entries). The same file runs as that model; any other file runs under its own file name, with an
   * entry made from its ONNX metadata (scale and range, when `coser models add` wrote them) over the named
   * model's, so provenance records what actually ran.
   */
  adoptPickedFile(
    name: string,
    fileName: string,
    bytes: Uint8Array,
  ): Promise<PickedModel & { entry: Record<string, unknown> }>;
  list(): Promise<ModelListing[]>;
  /** Why the listing is only the built-in catalogue (e.g. the server refused the token), if it is. */
  problem(): Promise<{ code: string; message: string } | undefined>;
  /** Forgets the listing (after an install), so the next list or resolve asks the server again. */
  refresh(): void;
}

const CACHE_NAME = 'coser-models-v1';

/**
 * Resolves models by manifest name for local runs: fetches `/api/models/NAME/file` once and keeps the bytes (in
 * memory, and in Cache Storage where available so a reload does not download again).
 */
export function createModelLoader(options: ModelLoaderOptions): ModelLoader {
  const doFetch = options.fetch ?? fetch.bind(globalThis);
  const local = new Map<string, { bytes: Uint8Array; entry?: Record<string, unknown> }>();
  const loaded = new Map<string, Promise<ResolvedModel>>();
  let listing: Promise<ModelListing[]> | undefined;
  let listProblem: { code: string; message: string } | undefined;
  const base = options.baseUrl.replace(/\/+$/, '');
  const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};

  async function fetchList(): Promise<ModelListing[]> {
    listProblem = undefined;
    try {
      const response = await doFetch(`${base}/api/models`, { headers });
      if (response.status === 401) listProblem = { code: 'UNAUTHORIZED', message: NOT_AUTHORISED };
      if (!response.ok) return [...(options.builtIn ?? [])];
      const body = (await response.json()) as unknown;
      const items = Array.isArray(body) ? body : [];
      const fromServer = items.filter(
        (m): m is ModelListing => typeof m === 'object' && m !== null && typeof (m as ModelListing).name === 'string',
      );
      const names = new Set(fromServer.map((m) => m.name));
      return [...fromServer, ...(options.builtIn ?? []).filter((m) => !names.has(m.name))];
    } catch {
      return [...(options.builtIn ?? [])];
    }
  }

  async function entryOf(name: string): Promise<ModelListing | undefined> {
    listing ??= fetchList();
    return (await listing).find((m) => m.name === name);
  }

  async function download(name: string): Promise<ResolvedModel> {
    const entry = await entryOf(name);
    const url = `${base}/api/models/${encodeURIComponent(name)}/file`;
    const cacheKey = `${url}?sha256=${entry?.sha256 ?? ''}`;
    let bytes = await readCache(cacheKey);
    if (!bytes) {
      let response: Response;
      try {
        response = await doFetch(url, { headers });
      } catch (cause) {
        throw new CoserError('MODEL_MISSING', `model "${name}" could not be downloaded from ${base}`, {}, { cause });
      }
      if (response.status === 401) throw new CoserError('UNAUTHORIZED', NOT_AUTHORISED);
      if (!response.ok) {
        throw new CoserError(
          'MODEL_MISSING',
          `model "${name}" is not installed on ${base} (HTTP ${response.status}); install it with \`coser models add ${name}\` or pick the .onnx file in the model picker`,
        );
      }
      bytes = new Uint8Array(await response.arrayBuffer());
      await writeCache(cacheKey, bytes);
    }
    const sha256 = typeof entry?.sha256 === 'string' ? entry.sha256 : await sha256Hex(bytes);
    return {
      source: { key: sha256, name, sha256, bytes, sizeBytes: bytes.byteLength },
      entry: { ...(entry ?? { name }) },
    };
  }

  return {
    addLocalFile(name, bytes, entry) {
      local.set(name, { bytes, ...(entry ? { entry } : {}) });
      loaded.delete(name);
    },
    async adoptPickedFile(name, fileName, bytes) {
      const sha256 = await sha256Hex(bytes);
      const known = name ? await entryOf(name) : undefined;
      if (known?.sha256 === sha256) {
        local.set(name, { bytes, entry: known });
        loaded.delete(name);
        return { name, matched: true, sha256, entry: known };
      }
      const own = pickedFileName(fileName);
      const entry = pickedEntry(own, bytes, known, sha256);
      local.set(own, { bytes, entry });
      loaded.delete(own);
      const reason = !name
        ? undefined
        : known?.sha256
          ? `its sha256 ${sha256.slice(0, 12)} is not ${name}'s (${known.sha256.slice(0, 12)})`
          : `no sha256 of ${name} is known here to check it against (install it on the server to have one)`;
      return { name: own, matched: false, sha256, entry, ...(reason ? { reason } : {}) };
    },
    async list() {
      const listed = await (listing ??= fetchList());
      // Files picked under their own names are models of this tab too: pickers list them as available.
      const names = new Set(listed.map((m) => m.name));
      const picked = [...local]
        .filter(([name, p]) => !names.has(name) && p.entry)
        .map(([name, p]) => ({ ...p.entry, name }) as ModelListing);
      return [...listed, ...picked];
    },
    async problem() {
      await (listing ??= fetchList());
      return listProblem;
    },
    refresh() {
      listing = undefined;
      for (const name of [...loaded.keys()]) if (!local.has(name)) loaded.delete(name);
    },
    resolve(name) {
      const picked = local.get(name);
      if (picked) {
        return (async () => {
          const sha256 = await sha256Hex(picked.bytes);
          const entry = picked.entry ?? (await entryOf(name)) ?? { name };
          return {
            source: { key: sha256, name, sha256, bytes: picked.bytes, sizeBytes: picked.bytes.byteLength },
            entry: { ...entry },
          };
        })();
      }
      let pending = loaded.get(name);
      if (!pending) {
        pending = download(name);
        loaded.set(name, pending);
        // A failed download is retried on the next run rather than cached as a failure.
        pending.catch(() => loaded.delete(name));
      }
      return pending;
    },
  };
}

/** A picked file's own model name: its file name, kept as typed apart from unsafe characters (`my-x4.onnx`). */
export function pickedFileName(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(-100);
  const name = cleaned || 'model.onnx';
  return name.toLowerCase().endsWith('.onnx') ? name : `${name}.onnx`;
}

/**
 * The manifest entry of a picked file that is not the named model: the named model's facts (the user picked it for
 * that node) overridden by what the file says about itself: the ONNX metadata `coser models add` writes
 * (`coser.scale`, `coser.inputRange`) and its first input and output names.
 */
function pickedEntry(
  name: string,
  bytes: Uint8Array,
  named: ModelListing | undefined,
  sha256: string,
): Record<string, unknown> {
  const entry: Record<string, unknown> = { task: 'super-resolution', channels: 3, ...(named ?? {}), name, sha256 };
  delete entry['file'];
  try {
    const summary = readOnnxSummary(bytes);
    const scale = Number(summary.metadata['coser.scale']);
    const range = Number(summary.metadata['coser.inputRange']);
    if (Number.isInteger(scale) && scale >= 1) entry['scale'] = scale;
    if (range === 1 || range === 255) entry['inputRange'] = range;
    const input = summary.inputs[0]?.name;
    const output = summary.outputs[0]?.name;
    if (input && output) entry['io'] = { input, output };
  } catch {
    // Not a readable ONNX file: loading it reports MODEL_CORRUPT with onnxruntime's own words.
  }
  return entry;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function readCache(key: string): Promise<Uint8Array | undefined> {
  try {
    if (typeof caches === 'undefined') return undefined;
    const hit = await (await caches.open(CACHE_NAME)).match(key);
    return hit ? new Uint8Array(await hit.arrayBuffer()) : undefined;
  } catch {
    return undefined;
  }
}

async function writeCache(key: string, bytes: Uint8Array): Promise<void> {
  try {
    if (typeof caches === 'undefined') return;
    await (await caches.open(CACHE_NAME)).put(key, new Response(bytes as Uint8Array<ArrayBuffer>));
  } catch {
    // Cache Storage is an optimisation (absent in some contexts, or full): the model is in memory anyway.
  }
}
