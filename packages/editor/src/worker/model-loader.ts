import type { ResolvedModel } from '@coser/runtime';
import { CoserError } from '@coser/runtime';
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

/** The worker's model resolver: server listing + downloads, files the user picked, and a cache of both. */
export interface ModelLoader extends WebModelResolver {
  /** A model file the user picked from disk; it wins over the server's copy of the same name. */
  addLocalFile(name: string, bytes: Uint8Array, entry?: Record<string, unknown>): void;
  list(): Promise<ModelListing[]>;
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
  const base = options.baseUrl.replace(/\/+$/, '');
  const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};

  async function fetchList(): Promise<ModelListing[]> {
    try {
      const response = await doFetch(`${base}/api/models`, { headers });
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
    list: () => {
      listing ??= fetchList();
      return listing;
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
