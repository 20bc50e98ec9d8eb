import type { ModelSource } from '../backend/inference-backend';
import type { ImageBuffer } from '../image/image-buffer';

export type ImageFormat = 'png' | 'jpeg' | 'webp';

export interface DecodeOptions {
  /** Refuse (IMAGE_TOO_LARGE) from the header, before decoding, when width * height exceeds this. */
  readonly maxPixels: number;
}

export interface EncodeOptions {
  /** 1-100 for jpeg/webp. */
  readonly quality?: number;
  /** PNG only: iTXt chunks (keyword -> UTF-8 text), e.g. the graph and provenance. */
  readonly text?: Readonly<Record<string, string>>;
  /** PNG only: 8 or 16 bits per channel. */
  readonly bitDepth?: 8 | 16;
}

/** A model as the host resolves it from a manifest name: the source to load plus its manifest entry. */
export interface ResolvedModel {
  readonly source: ModelSource;
  /** The manifest entry (shape owned by @coser/nodes; the runtime treats it as data). */
  readonly entry: Readonly<Record<string, unknown>>;
}

/** What `Host.inspectInput` learns about an input without decoding it. */
export interface InputFacts {
  readonly bytes: number;
  /** Image width and height from the header; absent when the file is not a readable image. */
  readonly width?: number;
  readonly height?: number;
  /**
   * Why `decodeImage` would refuse the file, found from its first bytes and header only (the code and message the
   * decoder would give): not an accepted format, or a header that cannot be read.
   */
  readonly imageProblem?: { readonly code: 'IMAGE_UNSUPPORTED' | 'IMAGE_CORRUPT'; readonly message: string };
}

/**
 * What a node may do outside pure computation. Each environment (CLI, server, browser worker) supplies one; every
 * path is resolved and checked here, so nodes never touch the file system themselves.
 */
export interface Host {
  /** Reads an input by the name a graph param holds (a path, an upload id). PATH_FORBIDDEN / FILE_NOT_FOUND / FILE_TOO_LARGE. */
  readInput(name: string, options?: { maxBytes?: number }): Promise<Uint8Array>;
  /**
   * Checks an input as `readInput` would (path rules, existence, size cap) without reading it all, so validation
   * can name a missing or forbidden file before a run starts; for an image, also its size from the header (as it
   * will decode: EXIF rotation applied). Same error codes as `readInput`.
   */
  inspectInput?(name: string): Promise<InputFacts>;
  /**
   * Writes an output file under the run's output folder and returns where it went (a path or URL).
   * Refuses names that leave the folder (PATH_FORBIDDEN) and never overwrites a run input (OUTPUT_OVERWRITES_INPUT).
   * Writes are atomic: a reader never sees a half-written file.
   */
  writeOutput(name: string, bytes: Uint8Array): Promise<string>;
  decodeImage(bytes: Uint8Array, options: DecodeOptions): Promise<ImageBuffer>;
  encodeImage(image: ImageBuffer, format: ImageFormat, options?: EncodeOptions): Promise<Uint8Array>;
  /** Resolves a model by manifest name. MODEL_MISSING names the command that installs it. */
  resolveModel(name: string): Promise<ResolvedModel>;
  /** Resolves a file of a model set (CoSeR) by set folder and file name; same checks as resolveModel. */
  resolveModelFile?(set: string, file: string): Promise<ResolvedModel>;
}
