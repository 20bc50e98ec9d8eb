import type { RunEvent } from '@coser/runtime';
import sharp from 'sharp';

/** `node:preview` as sent over socket.io: an 8-bit PNG instead of the float planes. */
export interface PreviewPngEvent {
  type: 'node:preview';
  runId: string;
  node: string;
  width: number;
  height: number;
  png: Buffer;
}

/** Encodes a preview image (planar float32 in [0, 1]) as an 8-bit PNG with sharp. */
export async function previewToPng(event: Extract<RunEvent, { type: 'node:preview' }>): Promise<PreviewPngEvent> {
  const { width, height, channels, data } = event.image;
  const size = width * height;
  const interleaved = Buffer.alloc(size * channels);
  for (let c = 0; c < channels; c++) {
    const offset = c * size;
    for (let i = 0; i < size; i++) {
      const v = data[offset + i]!;
      // NaN from a broken model shows as black rather than failing the preview.
      interleaved[i * channels + c] = v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
    }
  }
  const png = await sharp(interleaved, { raw: { width, height, channels } }).png({ compressionLevel: 3 }).toBuffer();
  return { type: 'node:preview', runId: event.runId, node: event.node, width, height, png };
}
