import { CoserError } from '@coser/runtime';

/** What the bytes of an upload say it is, read from its header alone (nothing is decoded). */
export interface SniffedImage {
  format: 'png' | 'jpeg' | 'webp';
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, prefix: readonly number[], offset = 0): boolean {
  return prefix.every((b, i) => bytes[offset + i] === b);
}

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, end));
}

/**
 * Identifies an image from its first bytes and reads its size from the header, then checks the pixel cap, so that
 * a file claiming 20000x20000 is refused before anything allocates for it. Accepts PNG, JPEG and WebP; refuses
 * everything else by content, whatever its name or content type says (SVG and HTML above all).
 *
 * Throws CoserError IMAGE_CORRUPT (empty, truncated header), IMAGE_UNSUPPORTED (not one of the three),
 * IMAGE_TOO_LARGE (width * height over `maxPixels`).
 */
export function sniffImage(bytes: Uint8Array, maxPixels: number): SniffedImage {
  if (bytes.length === 0) throw new CoserError('IMAGE_CORRUPT', 'the upload is empty');
  const sniffed = readHeader(bytes);
  if (sniffed.width <= 0 || sniffed.height <= 0) {
    throw new CoserError(
      'IMAGE_CORRUPT',
      `the ${sniffed.format} header gives a size of ${sniffed.width}x${sniffed.height}`,
    );
  }
  if (sniffed.width * sniffed.height > maxPixels) {
    throw new CoserError(
      'IMAGE_TOO_LARGE',
      `the image is ${sniffed.width}x${sniffed.height} (${sniffed.width * sniffed.height} pixels), over the cap of ${maxPixels} pixels`,
    );
  }
  return sniffed;
}

function readHeader(bytes: Uint8Array): SniffedImage {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (startsWith(bytes, PNG_SIGNATURE)) {
    if (bytes.length < 24 || ascii(bytes, 12, 16) !== 'IHDR')
      throw new CoserError('IMAGE_CORRUPT', 'truncated PNG header');
    return { format: 'png', width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return readJpeg(bytes, view);
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP')
    return readWebp(bytes, view);
  throw new CoserError('IMAGE_UNSUPPORTED', `not a PNG, JPEG or WebP image (${describe(bytes)})`);
}

/** Walks the JPEG segments to the first start-of-frame marker, which holds the size. */
function readJpeg(bytes: Uint8Array, view: DataView): SniffedImage {
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) throw new CoserError('IMAGE_CORRUPT', 'JPEG segment marker expected');
    const marker = bytes[offset + 1]!;
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    // Markers without a length: TEM and restart markers.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2;
      continue;
    }
    const length = view.getUint16(offset + 2);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (offset + 9 > bytes.length) break;
      return { format: 'jpeg', height: view.getUint16(offset + 5), width: view.getUint16(offset + 7) };
    }
    if (marker === 0xda || length < 2) break;
    offset += 2 + length;
  }
  throw new CoserError('IMAGE_CORRUPT', 'truncated JPEG: no frame header found');
}

function readWebp(bytes: Uint8Array, view: DataView): SniffedImage {
  if (bytes.length < 30) throw new CoserError('IMAGE_CORRUPT', 'truncated WebP header');
  const chunk = ascii(bytes, 12, 16);
  if (chunk === 'VP8X') {
    const width = 1 + (bytes[24]! | (bytes[25]! << 8) | (bytes[26]! << 16));
    const height = 1 + (bytes[27]! | (bytes[28]! << 8) | (bytes[29]! << 16));
    return { format: 'webp', width, height };
  }
  if (chunk === 'VP8L') {
    if (bytes[20] !== 0x2f) throw new CoserError('IMAGE_CORRUPT', 'bad WebP lossless signature');
    const bits = view.getUint32(21, true);
    return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8 ') {
    if (!startsWith(bytes, [0x9d, 0x01, 0x2a], 23)) throw new CoserError('IMAGE_CORRUPT', 'bad WebP frame signature');
    return { format: 'webp', width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
  }
  throw new CoserError('IMAGE_UNSUPPORTED', `unknown WebP chunk ${JSON.stringify(chunk)}`);
}

function describe(bytes: Uint8Array): string {
  const head = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 256)).trimStart().toLowerCase();
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return 'SVG is not accepted';
  if (head.startsWith('<')) return 'looks like HTML/XML';
  if (head.startsWith('gif8')) return 'GIF is not accepted';
  return 'unknown format';
}
