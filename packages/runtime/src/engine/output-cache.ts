/** A node's outputs by port, as the executor stores them. */
export type CachedOutputs = Readonly<Record<string, unknown>>;

/**
 * Reuses node outputs across runs. Keys are computed by the executor from the node's type, version, canonical
 * params and its upstream nodes' keys, so a changed param invalidates exactly the nodes that depend on it.
 */
export interface OutputCache {
  get(key: string): CachedOutputs | undefined;
  /** Stores outputs; entries larger than the whole budget are not stored. */
  set(key: string, outputs: CachedOutputs): void;
  delete(key: string): boolean;
  clear(): void;
  /** Number of entries and their estimated bytes, for tests and the server's status page. */
  readonly size: number;
  readonly bytes: number;
  readonly maxBytes: number;
}

export interface OutputCacheOptions {
  /** Budget for all entries together (estimated, see `estimateBytes`). Default 512 MiB. */
  readonly maxBytes?: number;
}

/**
 * An LRU cache of node outputs bounded by estimated bytes (images and tensors dominate). A hit moves the entry to
 * the back of the eviction order; storing over budget evicts the least recently used entries first.
 *
 * @example
 * const cache = createOutputCache({ maxBytes: 1024 ** 3 });
 * await executeGraph(graph, { registry, backend, host, cache });
 */
export function createOutputCache(options: OutputCacheOptions = {}): OutputCache {
  const maxBytes = options.maxBytes ?? 512 * 1024 ** 2;
  // Map iteration order is insertion order: re-inserting on a hit keeps the least recently used first.
  const entries = new Map<string, { outputs: CachedOutputs; bytes: number }>();
  let total = 0;
  const remove = (key: string) => {
    const entry = entries.get(key);
    if (!entry) return false;
    entries.delete(key);
    total -= entry.bytes;
    return true;
  };
  return {
    get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      entries.delete(key);
      entries.set(key, entry);
      return entry.outputs;
    },
    set(key, outputs) {
      remove(key);
      const bytes = estimateBytes(outputs);
      if (bytes > maxBytes) return;
      for (const oldest of entries.keys()) {
        if (total + bytes <= maxBytes) break;
        remove(oldest);
      }
      entries.set(key, { outputs, bytes });
      total += bytes;
    },
    delete: remove,
    clear() {
      entries.clear();
      total = 0;
    },
    get size() {
      return entries.size;
    },
    get bytes() {
      return total;
    },
    maxBytes,
  };
}

/**
 * Rough memory held by a value: typed-array bytes (image and tensor data), 2 bytes per string character, 8 per
 * number, plus a small overhead per object. Walks iteratively; shared buffers are counted once.
 */
export function estimateBytes(value: unknown): number {
  let total = 0;
  const seen = new Set<object>();
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current === 'string') total += 2 * current.length;
    else if (typeof current === 'number' || typeof current === 'bigint' || typeof current === 'boolean') total += 8;
    else if (current !== null && typeof current === 'object') {
      if (ArrayBuffer.isView(current)) {
        if (!seen.has(current.buffer)) {
          seen.add(current.buffer);
          total += current.byteLength;
        }
        continue;
      }
      if (seen.has(current)) continue;
      seen.add(current);
      total += 32;
      if (Array.isArray(current)) for (const item of current) stack.push(item);
      else for (const item of Object.values(current)) stack.push(item);
    }
  }
  return total;
}
