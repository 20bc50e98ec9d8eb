import type { DecodeOptions, EncodeOptions, ImageBuffer, ImageFormat, InputFacts } from '@coser/runtime';
import { CoserError } from '@coser/runtime';
import type { Metadata, OutputInfo } from 'sharp';
import sharp from 'sharp';
import { planarToSamples, samplesToPlanar } from '../lib/pixels';
import { addPngTextChunks } from '../lib/png-text';
import { type SniffedFormat, sniffImageFormat } from '../lib/sniff-image';

/** Formats decodeImage accepts, by their bytes (never by file name). */
const DECODABLE = new Set(['png', 'jpeg', 'webp', 'gif']);

function corrupt(message: string, cause?: unknown): CoserError {
  return new CoserError('IMAGE_CORRUPT', message, {}, { cause });
}

/**
 * Decodes PNG/JPEG/WebP/GIF bytes with sharp into a planar float32 [0, 1] image.
 *
 * - The format is sniffed from the bytes; SVG, HTML and unknown data are refused (IMAGE_UNSUPPORTED).
 * - The header is read first and `width * height > maxPixels` is refused (IMAGE_TOO_LARGE) before any pixel is decoded.
 * - Truncated or damaged files give IMAGE_CORRUPT (sharp's `failOn: 'error'`).
 * - 16-bit images keep their precision (values are n / 65535); grayscale gives 1 channel; grayscale + alpha gives
 *   RGBA; CMYK is converted to sRGB; alpha stays as the 4th channel (straight).
 * - Animated or multi-page images: only the first frame is decoded.
 * - EXIF orientation is applied (a portrait phone photo comes out upright).
 */
export async function decodeWithSharp(bytes: Uint8Array, options: DecodeOptions): Promise<ImageBuffer> {
  if (bytes.length === 0) throw corrupt('the image file is empty (0 bytes)');
  const format = sniffImageFormat(bytes);
  if (!DECODABLE.has(format)) throw new CoserError('IMAGE_UNSUPPORTED', unsupportedMessage(format));
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { failOn: 'error', limitInputPixels: false, pages: 1 }).metadata();
  } catch (error) {
    throw corrupt(`the ${format.toUpperCase()} header cannot be read: ${(error as Error).message}`, error);
  }
  const width = meta.width;
  const height = meta.pageHeight ?? meta.height;
  if (!width || !height) throw corrupt(`the ${format.toUpperCase()} header gives no image size`);
  const pixels = width * height;
  if (pixels > options.maxPixels) {
    throw new CoserError(
      'IMAGE_TOO_LARGE',
      `image is ${width}x${height} (${pixels} pixels), over the cap of ${options.maxPixels} pixels`,
    );
  }
  const sixteen = meta.depth === 'ushort' || (meta.bitsPerSample ?? 8) > 8;
  const gray = (meta.channels ?? 3) === 1 && meta.space !== 'cmyk';
  const space = gray ? (sixteen ? 'grey16' : 'b-w') : sixteen ? 'rgb16' : 'srgb';
  let raw: { data: Buffer; info: OutputInfo };
  try {
    // sharp's own cap is a second line of defence; it wants an integer (or false for none).
    const limitInputPixels = Number.isFinite(options.maxPixels)
      ? Math.min(Number.MAX_SAFE_INTEGER, Math.max(1, Math.floor(options.maxPixels)))
      : false;
    raw = await sharp(bytes, { failOn: 'error', limitInputPixels, pages: 1, autoOrient: true })
      .toColourspace(space)
      .raw({ depth: sixteen ? 'ushort' : 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    if (/pixel limit/i.test((error as Error).message)) {
      throw new CoserError(
        'IMAGE_TOO_LARGE',
        `image is over the cap of ${options.maxPixels} pixels`,
        {},
        { cause: error },
      );
    }
    throw corrupt(`the ${format.toUpperCase()} image is damaged or truncated: ${(error as Error).message}`, error);
  }
  return toPlanar(raw.data, raw.info, sixteen);
}

function unsupportedMessage(format: SniffedFormat): string {
  const what =
    format === 'unknown' ? 'not a recognised image format' : `${format.toUpperCase()}, which is not accepted`;
  return `the file is ${what} (accepted: PNG, JPEG, WebP, GIF)`;
}

/**
 * What `decodeWithSharp` would make of an image file, from its first bytes and header only: its width and height
 * (EXIF orientation 5-8 swaps them, as decoding does), or the problem decoding would report.
 */
export async function inspectImageFile(file: string, head: Uint8Array): Promise<Omit<InputFacts, 'bytes'>> {
  const format = sniffImageFormat(head);
  if (!DECODABLE.has(format))
    return { imageProblem: { code: 'IMAGE_UNSUPPORTED', message: unsupportedMessage(format) } };
  try {
    const meta = await sharp(file, { failOn: 'error', limitInputPixels: false, pages: 1 }).metadata();
    const width = meta.width;
    const height = meta.pageHeight ?? meta.height;
    if (width && height) return (meta.orientation ?? 1) >= 5 ? { width: height, height: width } : { width, height };
  } catch {
    // Reported below, as decoding would.
  }
  return {
    imageProblem: {
      code: 'IMAGE_CORRUPT',
      message: `the ${format.toUpperCase()} header cannot be read (damaged or truncated)`,
    },
  };
}

function toPlanar(data: Buffer, info: OutputInfo, sixteen: boolean): ImageBuffer {
  const samples = sixteen
    ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return samplesToPlanar(samples, info.width, info.height, info.channels, sixteen);
}

/** Encodes a planar float image (clamped to [0, 1]) as PNG (8/16 bit, optional iTXt text), JPEG or WebP. */
export async function encodeWithSharp(
  image: ImageBuffer,
  format: ImageFormat,
  options: EncodeOptions = {},
): Promise<Uint8Array> {
  const sixteen = format === 'png' && options.bitDepth === 16;
  const pixels = planarToSamples(image, sixteen);
  let pipeline = sharp(pixels, { raw: { width: image.width, height: image.height, channels: image.channels } });
  const quality = Math.min(100, Math.max(1, Math.round(options.quality ?? 95)));
  if (format === 'png') {
    // sharp writes raw 1-channel input as RGB unless told the colour space.
    if (sixteen) pipeline = pipeline.toColourspace(image.channels === 1 ? 'grey16' : 'rgb16');
    else if (image.channels === 1) pipeline = pipeline.toColourspace('b-w');
    const png = new Uint8Array(await pipeline.png({ compressionLevel: 6 }).toBuffer());
    return options.text && Object.keys(options.text).length > 0 ? addPngTextChunks(png, options.text) : png;
  }
  if (image.channels === 1) pipeline = pipeline.toColourspace('b-w');
  // JPEG has no alpha: drop it (colour values stay as they are rather than being composited on a background).
  if (format === 'jpeg' && image.channels === 4) pipeline = pipeline.removeAlpha();
  if (format === 'jpeg') return new Uint8Array(await pipeline.jpeg({ quality, chromaSubsampling: '4:2:0' }).toBuffer());
  if (format === 'webp') return new Uint8Array(await pipeline.webp({ quality }).toBuffer());
  throw new CoserError('IMAGE_UNSUPPORTED', `cannot encode images as ${String(format)}`);
}
