/** What a file's header says about its image. */
export interface ImageHeader {
  width: number;
  height: number;
  /**
   * Channels the Node host (sharp) decodes this file to: 1 gray, 3 colour, 4 with alpha (even when every pixel is
   * opaque). The browser's canvas always gives RGBA, so the web host uses this to give the same ImageBuffer.
   */
  channels?: 1 | 3 | 4;
}

/**
 * Image dimensions (and channels) from the file header, read before decoding so that a file claiming
 * 20000x20000 is refused without allocating its pixels. Undefined when the header cannot be found (the decoder
 * then decides).
 */
export function readImageSize(bytes: Uint8Array): ImageHeader | undefined {
  if (bytes.length >= 24 && bytes[0] === 0x89 && bytes[1] === 0x50) return pngSize(bytes);
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) return jpegSize(bytes);
  if (bytes.length >= 30 && bytes[0] === 0x52 && bytes[8] === 0x57) return webpSize(bytes);
  return undefined;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const PNG_CHANNELS: Record<number, 1 | 3 | 4> = { 0: 1, 2: 3, 3: 3, 4: 4, 6: 4 };

function pngSize(bytes: Uint8Array): ImageHeader {
  // IHDR is always the first chunk: width and height at offsets 16 and 20, colour type at 25.
  const v = view(bytes);
  const colourType = bytes[25] ?? 2;
  let channels = PNG_CHANNELS[colourType];
  // A palette image with a tRNS chunk has alpha.
  if (colourType === 3 && hasChunk(bytes, 'tRNS')) channels = 4;
  if (colourType === 0 && hasChunk(bytes, 'tRNS')) channels = 4;
  return { width: v.getUint32(16), height: v.getUint32(20), ...(channels ? { channels } : {}) };
}

/** Whether a chunk of `type` comes before the image data. */
function hasChunk(bytes: Uint8Array, type: string): boolean {
  const v = view(bytes);
  let offset = 8;
  while (offset + 8 <= bytes.length) {
    const length = v.getUint32(offset);
    const name = String.fromCharCode(bytes[offset + 4]!, bytes[offset + 5]!, bytes[offset + 6]!, bytes[offset + 7]!);
    if (name === type) return true;
    if (name === 'IDAT' || name === 'IEND') return false;
    offset += 12 + length;
  }
  return false;
}

function jpegSize(bytes: Uint8Array): ImageHeader | undefined {
  const v = view(bytes);
  let offset = 2;
  while (offset + 9 < bytes.length) {
    if (bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1]!;
    // Fill bytes and markers without a length.
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      offset += 2;
      continue;
    }
    const length = v.getUint16(offset + 2);
    // SOF0..SOF15 except DHT (c4), JPG (c8) and DAC (cc) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const components = bytes[offset + 9];
      return { height: v.getUint16(offset + 5), width: v.getUint16(offset + 7), channels: components === 1 ? 1 : 3 };
    }
    offset += 2 + length;
  }
  return undefined;
}

function webpSize(bytes: Uint8Array): ImageHeader | undefined {
  const v = view(bytes);
  const chunk = String.fromCharCode(bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!);
  if (chunk === 'VP8X') {
    const w = 1 + (bytes[24]! | (bytes[25]! << 8) | (bytes[26]! << 16));
    const h = 1 + (bytes[27]! | (bytes[28]! << 8) | (bytes[29]! << 16));
    // VP8X flags: bit 4 = alpha.
    return { width: w, height: h, channels: bytes[20]! & 0x10 ? 4 : 3 };
  }
  if (chunk === 'VP8L') {
    const b = v.getUint32(21, true);
    // Bit 28: alpha_is_used.
    return { width: (b & 0x3fff) + 1, height: ((b >> 14) & 0x3fff) + 1, channels: (b >>> 28) & 1 ? 4 : 3 };
  }
  if (chunk === 'VP8 ') {
    return { width: v.getUint16(26, true) & 0x3fff, height: v.getUint16(28, true) & 0x3fff, channels: 3 };
  }
  return undefined;
}
