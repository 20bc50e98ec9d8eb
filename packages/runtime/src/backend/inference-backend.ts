import type { Tensor } from '../image/tensor';

/** Where a model's bytes come from. `key` identifies the model for session caching (its sha256 is a good key). */
export interface ModelSource {
  readonly key: string;
  /** Manifest name, for messages and provenance. */
  readonly name: string;
  readonly sha256?: string;
  /** Either the bytes (browser, uploads) or a path the backend may read (Node). */
  readonly bytes?: Uint8Array;
  readonly path?: string;
  /** Size on disk, used for the session memory budget when the bytes are not in memory. */
  readonly sizeBytes?: number;
}

/** Metadata of one input or output of a loaded model; -1 or a string marks a dynamic dimension. */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: string;
  readonly dims?: readonly (number | string)[];
}

export interface RunOptions {
  readonly signal?: AbortSignal;
}

/** A loaded model. Sessions are owned by the backend's cache: call `release` only through the backend. */
export interface InferenceSession {
  readonly key: string;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  run(feeds: Record<string, Tensor>, options?: RunOptions): Promise<Record<string, Tensor>>;
}

/**
 * Runs ONNX models. The runtime core only knows this interface; onnxruntime-node and onnxruntime-web live in the
 * `backend-node` and `backend-web` entry points.
 */
export interface InferenceBackend {
  /** e.g. `onnxruntime-node/cpu`, `onnxruntime-web/webgpu`; recorded in provenance. */
  readonly name: string;
  /** Loads (or returns the cached) session. Throws CoserError MODEL_CORRUPT / MODEL_MISSING / OUT_OF_MEMORY. */
  load(model: ModelSource): Promise<InferenceSession>;
  /** Drops a session from the cache and frees it; a large pipeline releases stage by stage. */
  release(key: string): Promise<void>;
  releaseAll(): Promise<void>;
}
