// A plain bilinear resize (half-pixel centres, edge clamped) for tiling tests and the tiling bench.
import { createImage, type ImageBuffer } from '../image/image-buffer';

export function bilinearResize(image: ImageBuffer, scale: number): ImageBuffer {
  const outWidth = Math.round(image.width * scale);
  const outHeight = Math.round(image.height * scale);
  const out = createImage(outWidth, outHeight, image.channels);
  const xs = axis(image.width, outWidth);
  const ys = axis(image.height, outHeight);
  const inPlane = image.width * image.height;
  const outPlane = outWidth * outHeight;
  for (let c = 0; c < image.channels; c++) {
    const src = image.data.subarray(c * inPlane, (c + 1) * inPlane);
    for (let y = 0; y < outHeight; y++) {
      const y0 = ys.lo[y]! * image.width;
      const y1 = ys.hi[y]! * image.width;
      const fy = ys.frac[y]!;
      const row = c * outPlane + y * outWidth;
      for (let x = 0; x < outWidth; x++) {
        const x0 = xs.lo[x]!;
        const x1 = xs.hi[x]!;
        const fx = xs.frac[x]!;
        const top = src[y0 + x0]! + (src[y0 + x1]! - src[y0 + x0]!) * fx;
        const bottom = src[y1 + x0]! + (src[y1 + x1]! - src[y1 + x0]!) * fx;
        out.data[row + x] = top + (bottom - top) * fy;
      }
    }
  }
  return out;
}

function axis(inLength: number, outLength: number) {
  const lo = new Int32Array(outLength);
  const hi = new Int32Array(outLength);
  const frac = new Float32Array(outLength);
  const ratio = inLength / outLength;
  for (let i = 0; i < outLength; i++) {
    const pos = Math.min(Math.max((i + 0.5) * ratio - 0.5, 0), inLength - 1);
    lo[i] = Math.floor(pos);
    hi[i] = Math.min(lo[i]! + 1, inLength - 1);
    frac[i] = pos - lo[i]!;
  }
  return { lo, hi, frac };
}
