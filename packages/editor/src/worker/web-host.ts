import { addPngTextChunks, type SniffedFormat, sniffImageFormat } from '@coser/nodes';
import type {
  DecodeOptions,
  EncodeOptions,
  Host,
  ImageBuffer,
  ImageFormat,
  InputFacts,
  ResolvedModel,
} from '@coser/runtime';
import { CoserError, createImage } from '@coser/runtime';
import { readImageSize } from './image-header';
import { decodePng16, encodePng16, isSixteenBitPng } from './png16';

/** Where the web host gets model bytes (see model-loader.ts). */
export interface WebModelResolver {
  resolve(name: string): Promise<ResolvedModel>;
}

export interface WebHostOptions {
  models: WebModelResolver;
  /** CoSeR model-set folders opened on this device (`resolveModelFile`); without it the host has none. */
  modelSets?: { resolve(set: string, file: string): Promise<ResolvedModel> };
  /** Called for each file a run writes (Save Image); the worker posts it to the UI. */
  onOutput(name: string, bytes: Uint8Array, mime: string): void;
  /** Largest input a node may read, in bytes. */
  maxInputBytes?: number;
}

/** The web host plus what the worker needs to manage uploads and outputs. */
export interface WebHost extends Host {
  /** Keeps an uploaded image under an id (`uploads/NAME`) that Load Image's `path` param refers to. */
  addUpload(id: string, bytes: Uint8Array): void;
  hasUpload(id: string): boolean;
  /** Width and height of an upload, from its header (undefined when unknown or unreadable). */
  uploadSize(id: string): { width: number; height: number } | undefined;
  /** Files written by the current run (cleared by `resetOutputs`). */
  readonly outputs: ReadonlyMap<string, Uint8Array>;
  resetOutputs(): void;
}

const DEFAULT_MAX_INPUT_BYTES = 64 * 1024 * 1024;
const MIME: Record<ImageFormat, string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };

/**
 * The browser's Host: decodes with createImageBitmap + OffscreenCanvas, encodes with OffscreenCanvas.convertToBlob,
 * reads inputs from images the user uploaded into this tab, keeps outputs in memory and hands them to the UI.
 * Runs inside the worker (OffscreenCanvas exists there).
 */
export function createWebHost(options: WebHostOptions): WebHost {
  const uploads = new Map<string, Uint8Array>();
  const outputs = new Map<string, Uint8Array>();
  const maxInputBytes = options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES;

  function uploadOrThrow(name: string, limit: number): Uint8Array {
    const bytes = uploads.get(name);
    if (!bytes) {
      throw new CoserError(
        'FILE_NOT_FOUND',
        `"${name}" is not an image uploaded in this tab (uploads are kept in memory: drop the image again)`,
      );
    }
    if (bytes.byteLength > limit) {
      throw new CoserError('FILE_TOO_LARGE', `"${name}" is ${bytes.byteLength} bytes, over the limit of ${limit}`);
    }
    return bytes;
  }

  return {
    addUpload(id, bytes) {
      uploads.set(id, bytes);
    },
    hasUpload: (id) => uploads.has(id),
    uploadSize(id) {
      const bytes = uploads.get(id);
      return bytes ? readImageSize(bytes) : undefined;
    },
    outputs,
    resetOutputs() {
      outputs.clear();
    },

    async readInput(name, readOptions) {
      return uploadOrThrow(name, readOptions?.maxBytes ?? maxInputBytes);
    },

    async inspectInput(name) {
      const bytes = uploadOrThrow(name, maxInputBytes);
      const refused = refusedFormat(sniffImageFormat(bytes));
      if (refused) return { bytes: bytes.byteLength, imageProblem: refused };
      const header = readImageSize(bytes);
      return { bytes: bytes.byteLength, ...(header ? { width: header.width, height: header.height } : {}) };
    },

    // Outputs live in their own in-memory namespace (uploads are `uploads/NAME`), so one never replaces an input.
    async writeOutput(name, bytes) {
      if (!name || name.includes('/') || name.includes('\\') || name.includes('\0') || name === '.' || name === '..') {
        throw new CoserError('PATH_FORBIDDEN', `output name "${name}" must be a plain file name`);
      }
      outputs.set(name, bytes);
      options.onOutput(name, bytes, mimeOf(bytes));
      return name;
    },

    decodeImage: (bytes, decodeOptions) => decodeImage(bytes, decodeOptions),
    encodeImage: (image, format, encodeOptions) => encodeImage(image, format, encodeOptions),
    resolveModel: (name) => options.models.resolve(name),
    ...(options.modelSets ? { resolveModelFile: options.modelSets.resolve } : {}),
  };
}

function mimeOf(bytes: Uint8Array): string {
  const format = sniffImageFormat(bytes);
  return format === 'png' || format === 'jpeg' || format === 'webp' ? MIME[format] : 'application/octet-stream';
}

/** Decodes PNG/JPEG/WebP to planar float RGB (or RGBA when any pixel is not opaque). */
export async function decodeImage(bytes: Uint8Array, options: DecodeOptions): Promise<ImageBuffer> {
  const format = sniffImageFormat(bytes);
  const refused = refusedFormat(format);
  if (refused) throw new CoserError(refused.code, refused.message);
  // What refusedFormat let through: PNG, JPEG or WebP.
  const mime = MIME[format as ImageFormat];
  const header = readImageSize(bytes);
  if (header) checkPixels(header.width, header.height, options.maxPixels);
  if (isSixteenBitPng(bytes)) {
    let image: ImageBuffer | undefined;
    try {
      image = decodePng16(bytes);
    } catch (cause) {
      throw new CoserError('IMAGE_CORRUPT', 'the 16-bit PNG image could not be decoded (truncated?)', {}, { cause });
    }
    if (image) {
      checkPixels(image.width, image.height, options.maxPixels);
      return image;
    }
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mime }), {
      premultiplyAlpha: 'none',
      colorSpaceConversion: 'none',
    });
  } catch (cause) {
    throw new CoserError(
      'IMAGE_CORRUPT',
      `the ${format.toUpperCase()} image could not be decoded (truncated?)`,
      {},
      { cause },
    );
  }
  try {
    const { width, height } = bitmap;
    // The header may be missing or lie; the decoded size is what counts.
    checkPixels(width, height, options.maxPixels);
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    if (!context) throw new CoserError('INTERNAL', 'OffscreenCanvas 2d context is not available');
    context.drawImage(bitmap, 0, 0);
    const rgba = context.getImageData(0, 0, width, height).data;
    return rgbaToPlanar(rgba, width, height, header?.channels);
  } finally {
    bitmap.close();
  }
}

/** What this host's decoder says to a format it does not take (SVG, HTML and GIF; unknown bytes). */
function refusedFormat(format: SniffedFormat): NonNullable<InputFacts['imageProblem']> | undefined {
  if (format === 'svg' || format === 'html' || format === 'gif') {
    return {
      code: 'IMAGE_UNSUPPORTED',
      message: `${format.toUpperCase()} files are not accepted: use PNG, JPEG or WebP`,
    };
  }
  if (format === 'unknown') return { code: 'IMAGE_CORRUPT', message: 'not a PNG, JPEG or WebP image' };
  return undefined;
}

function checkPixels(width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) {
    throw new CoserError(
      'IMAGE_TOO_LARGE',
      `image is ${width}x${height} (${width * height} pixels), over the cap of ${maxPixels} pixels`,
    );
  }
  if (width === 0 || height === 0) throw new CoserError('IMAGE_CORRUPT', 'image has no pixels');
}

/**
 * Interleaved 8-bit RGBA -> planar float with `channels` planes (1 takes the red plane of a gray image). Without
 * a known channel count, alpha is kept only when some pixel is not opaque.
 */
export function rgbaToPlanar(rgba: Uint8ClampedArray, width: number, height: number, known?: 1 | 3 | 4): ImageBuffer {
  const size = width * height;
  let channels = known;
  if (channels === undefined) {
    channels = 3;
    for (let i = 3; i < rgba.length; i += 4) {
      if (rgba[i] !== 255) {
        channels = 4;
        break;
      }
    }
  }
  const data = new Float32Array(size * channels);
  for (let c = 0; c < channels; c++) {
    const offset = c * size;
    for (let i = 0; i < size; i++) data[offset + i] = rgba[i * 4 + c]! / 255;
  }
  return createImage(width, height, channels, data);
}

/** Planar float (clamped to [0, 1], rounded) -> interleaved 8-bit RGBA. */
export function planarToRgba(image: ImageBuffer): Uint8ClampedArray<ArrayBuffer> {
  const size = image.width * image.height;
  const rgba = new Uint8ClampedArray(size * 4);
  const { data, channels } = image;
  for (let i = 0; i < size; i++) {
    const r = data[i]!;
    const g = channels >= 3 ? data[size + i]! : r;
    const b = channels >= 3 ? data[2 * size + i]! : r;
    const a = channels === 4 ? data[3 * size + i]! : 1;
    // Uint8ClampedArray rounds half to even; adding 0.5 and flooring matches sharp's rounding instead.
    rgba[i * 4] = Math.floor(clamp01(r) * 255 + 0.5);
    rgba[i * 4 + 1] = Math.floor(clamp01(g) * 255 + 0.5);
    rgba[i * 4 + 2] = Math.floor(clamp01(b) * 255 + 0.5);
    rgba[i * 4 + 3] = Math.floor(clamp01(a) * 255 + 0.5);
  }
  return rgba;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : Number.isNaN(v) ? 0 : v;
}

/**
 * Encodes through an OffscreenCanvas (8 bits per channel), or fast-png for a 16-bit PNG; PNG text chunks carry the
 * graph and provenance.
 */
export async function encodeImage(
  image: ImageBuffer,
  format: ImageFormat,
  options: EncodeOptions = {},
): Promise<Uint8Array> {
  const withText = (png: Uint8Array) =>
    options.text && Object.keys(options.text).length > 0 ? addPngTextChunks(png, options.text) : png;
  if (format === 'png' && options.bitDepth === 16) return withText(encodePng16(image));
  const canvas = new OffscreenCanvas(image.width, image.height);
  const context = canvas.getContext('2d');
  if (!context) throw new CoserError('INTERNAL', 'OffscreenCanvas 2d context is not available');
  context.putImageData(new ImageData(planarToRgba(image), image.width, image.height), 0, 0);
  const quality = options.quality !== undefined ? Math.min(100, Math.max(1, options.quality)) / 100 : undefined;
  const blob = await canvas.convertToBlob({ type: MIME[format], ...(quality !== undefined ? { quality } : {}) });
  const bytes = new Uint8Array(await blob.arrayBuffer());
  return format === 'png' ? withText(bytes) : bytes;
}
