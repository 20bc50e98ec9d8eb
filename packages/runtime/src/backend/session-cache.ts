import type { ModelSource } from './inference-backend';

export interface SessionCacheOptions<S> {
  /** Estimated memory all cached sessions may hold together. */
  readonly memoryBudgetBytes: number;
  /** Creates a session; a rejection is passed on and nothing is cached. */
  create(model: ModelSource): Promise<S>;
  /** Frees a session (onnxruntime's `release`). Errors are swallowed: the session is gone either way. */
  dispose(session: S): Promise<void>;
  /** Estimated memory of a model's session. Default: twice the model's size (weights plus runtime copies). */
  estimateBytes?(model: ModelSource, session: S): number;
}

/** An LRU cache of inference sessions bounded by estimated memory, shared by the Node and web backends. */
export interface SessionCache<S> {
  /** The cached session for `model.key`, or a newly created one (concurrent calls share one creation). */
  get(model: ModelSource): Promise<S>;
  /**
   * Runs `work` with the model's session (reloaded if it was evicted since) marked busy: a busy session is never
   * disposed under it; if it is evicted or released meanwhile, it is disposed when the work ends.
   */
  use<T>(model: ModelSource, work: (session: S) => Promise<T>): Promise<T>;
  release(key: string): Promise<void>;
  releaseAll(): Promise<void>;
  /** Keys from least to most recently used, and their estimated bytes. */
  stats(): { keys: string[]; bytes: number };
}

interface Entry<S> {
  session: S;
  bytes: number;
  busy: number;
  /** Evicted or released while busy: dispose when the last use ends. */
  doomed: boolean;
}

/**
 * Creates a session cache. Loading a model over the budget first releases the least recently used idle sessions;
 * a single model larger than the whole budget is still loaded (alone), since refusing it would make the model
 * unusable rather than save memory.
 *
 * @example
 * const cache = createSessionCache({ memoryBudgetBytes: 2 ** 31, create: (m) => ort.InferenceSession.create(m.bytes!), dispose: (s) => s.release() });
 */
export function createSessionCache<S>(options: SessionCacheOptions<S>): SessionCache<S> {
  const entries = new Map<string, Entry<S>>();
  const pending = new Map<string, Promise<S>>();
  const estimate =
    options.estimateBytes ?? ((model: ModelSource) => 2 * (model.sizeBytes ?? model.bytes?.byteLength ?? 0));

  const total = () => {
    let sum = 0;
    for (const entry of entries.values()) sum += entry.bytes;
    return sum;
  };
  const drop = async (key: string) => {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    if (entry.busy > 0) entry.doomed = true;
    else await safeDispose(entry.session);
  };
  const safeDispose = async (session: S) => {
    try {
      await options.dispose(session);
    } catch {
      // A failed release leaves nothing we could retry; the session is dropped from the cache regardless.
    }
  };
  const makeRoom = async (needed: number) => {
    for (const [key, entry] of [...entries]) {
      if (total() + needed <= options.memoryBudgetBytes) return;
      if (entry.busy === 0) await drop(key);
    }
  };

  return {
    async get(model) {
      const cached = entries.get(model.key);
      if (cached) {
        entries.delete(model.key);
        entries.set(model.key, cached);
        return cached.session;
      }
      const inFlight = pending.get(model.key);
      if (inFlight) return inFlight;
      const creation = (async () => {
        await makeRoom(estimate(model, undefined as S));
        const session = await options.create(model);
        const bytes = estimate(model, session);
        entries.set(model.key, { session, bytes, busy: 0, doomed: false });
        // The real size may exceed the guess made before loading: trim others, never the new session.
        const mine = entries.get(model.key)!;
        entries.delete(model.key);
        await makeRoom(bytes);
        entries.set(model.key, mine);
        return session;
      })();
      pending.set(model.key, creation);
      try {
        return await creation;
      } finally {
        pending.delete(model.key);
      }
    },
    async use(model, work) {
      let entry = entries.get(model.key);
      // Checking and marking busy happen in one synchronous step, so nothing can evict the session in between.
      for (let attempt = 0; !entry && attempt < 3; attempt++) {
        await this.get(model);
        entry = entries.get(model.key);
      }
      if (!entry) throw new Error(`the session for ${model.name} was released while loading`);
      entries.delete(model.key);
      entries.set(model.key, entry);
      entry.busy++;
      try {
        return await work(entry.session);
      } finally {
        entry.busy--;
        if (entry.busy === 0 && entry.doomed) await safeDispose(entry.session);
      }
    },
    release: drop,
    async releaseAll() {
      await Promise.all([...entries.keys()].map(drop));
    },
    stats() {
      return { keys: [...entries.keys()], bytes: total() };
    },
  };
}
