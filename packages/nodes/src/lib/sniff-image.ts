/** What the first bytes of a file say it is, whatever its name claims. */
export type SniffedFormat = 'png' | 'jpeg' | 'webp' | 'gif' | 'svg' | 'html' | 'unknown';

function startsWith(bytes: Uint8Array, prefix: readonly number[], at = 0): boolean {
  if (bytes.length < at + prefix.length) return false;
  return prefix.every((b, i) => bytes[at + i] === b);
}

/**
 * Identifies an image by its magic bytes. Text that looks like markup is `svg` when an `<svg` element appears in the
 * first kilobyte, otherwise `html`; decoders refuse both (SVG can reference files and scripts).
 *
 * @example
 * sniffImageFormat(bytes) === 'jpeg' // even for a file called photo.png
 */
export function sniffImageFormat(bytes: Uint8Array): SniffedFormat {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8)) return 'webp';
  if (startsWith(bytes, [0x47, 0x49, 0x46, 0x38]) && (bytes[4] === 0x37 || bytes[4] === 0x39) && bytes[5] === 0x61) {
    return 'gif';
  }
  const head = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 1024));
  const text = head
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  if (text.startsWith('<')) return /<svg[\s>]/.test(text) ? 'svg' : 'html';
  return 'unknown';
}
