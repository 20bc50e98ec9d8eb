import type { ImageBuffer } from '@coser/runtime';

/** A grayscale plane on the 0-255 scale with its size. */
export interface Plane255 {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** PSNR (dB) between planes on the 0-255 scale, over all their values; Infinity when they are equal. */
export function psnr(a: readonly Plane255[], b: readonly Plane255[]): number {
  let sum = 0;
  let count = 0;
  for (let c = 0; c < a.length; c++) {
    const x = a[c]!.data;
    const y = b[c]!.data;
    for (let i = 0; i < x.length; i++) {
      const d = x[i]! - y[i]!;
      sum += d * d;
    }
    count += x.length;
  }
  const mse = sum / count;
  return mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / mse);
}

const WINDOW = 11;
const RADIUS = 5;

function gaussianWindow(): Float64Array {
  const w = new Float64Array(WINDOW);
  let total = 0;
  for (let i = 0; i < WINDOW; i++) {
    w[i] = Math.exp(-((i - RADIUS) ** 2) / (2 * 1.5 * 1.5));
    total += w[i]!;
  }
  for (let i = 0; i < WINDOW; i++) w[i]! /= total;
  return w;
}

/**
 * Mean SSIM of two planes on the 0-255 scale (Wang et al.: Gaussian 11x11 window, sigma 1.5, K1 = 0.01, K2 = 0.03),
 * over the 'valid' window positions, as BasicSR and MATLAB's reference code compute it. Planes need >= 11 px sides.
 */
export function ssim(a: Plane255, b: Plane255): number {
  const { width: w, height: h } = a;
  if (w < WINDOW || h < WINDOW) throw new RangeError(`SSIM needs at least ${WINDOW}x${WINDOW} pixels, got ${w}x${h}`);
  const k = gaussianWindow();
  const x = a.data;
  const y = b.data;
  const ow = w - 2 * RADIUS;
  const oh = h - 2 * RADIUS;
  // One fused horizontal pass for the five local moments (x, y, x^2, y^2, xy): each source value is read once.
  const n = ow * h;
  const hx = new Float64Array(n);
  const hy = new Float64Array(n);
  const hxx = new Float64Array(n);
  const hyy = new Float64Array(n);
  const hxy = new Float64Array(n);
  for (let row = 0; row < h; row++) {
    for (let col = 0; col < ow; col++) {
      let sx = 0;
      let sy = 0;
      let sxx = 0;
      let syy = 0;
      let sxy = 0;
      const s = row * w + col;
      for (let t = 0; t < WINDOW; t++) {
        const kt = k[t]!;
        const vx = x[s + t]!;
        const vy = y[s + t]!;
        sx += kt * vx;
        sy += kt * vy;
        sxx += kt * vx * vx;
        syy += kt * vy * vy;
        sxy += kt * vx * vy;
      }
      const o = row * ow + col;
      hx[o] = sx;
      hy[o] = sy;
      hxx[o] = sxx;
      hyy[o] = syy;
      hxy[o] = sxy;
    }
  }
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  let total = 0;
  for (let row = 0; row < oh; row++) {
    for (let col = 0; col < ow; col++) {
      let mux = 0;
      let muy = 0;
      let exx = 0;
      let eyy = 0;
      let exy = 0;
      for (let t = 0; t < WINDOW; t++) {
        const kt = k[t]!;
        const o = (row + t) * ow + col;
        mux += kt * hx[o]!;
        muy += kt * hy[o]!;
        exx += kt * hxx[o]!;
        eyy += kt * hyy[o]!;
        exy += kt * hxy[o]!;
      }
      const vx = exx - mux * mux;
      const vy = eyy - muy * muy;
      const cov = exy - mux * muy;
      total += ((2 * mux * muy + c1) * (2 * cov + c2)) / ((mux * mux + muy * muy + c1) * (vx + vy + c2));
    }
  }
  return total / (ow * oh);
}

/**
 * The colour planes of an image (alpha dropped) quantised to 8 bits as a saved file would be, on the 0-255 scale,
 * with `border` pixels cropped from every side.
 */
export function planes255(image: ImageBuffer, border: number): Plane255[] {
  const colour = Math.min(image.channels, 3);
  const width = image.width - 2 * border;
  const height = image.height - 2 * border;
  const size = image.width * image.height;
  const out: Plane255[] = [];
  for (let c = 0; c < colour; c++) {
    const data = new Float32Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const v = image.data[c * size + (y + border) * image.width + x + border]!;
        data[y * width + x] = v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
      }
    }
    out.push({ width, height, data });
  }
  return out;
}

/** BT.601 studio-range luma (16-235) of 8-bit-quantised planes, as BasicSR's `test_y_channel` computes it. */
export function lumaPlane255(planes: readonly Plane255[]): Plane255 {
  const r = planes[0]!;
  if (planes.length < 3) return { ...r, data: Float32Array.from(r.data, (v) => 16 + (219 * v) / 255) };
  const g = planes[1]!.data;
  const b = planes[2]!.data;
  const data = new Float32Array(r.data.length);
  for (let i = 0; i < data.length; i++) {
    data[i] = 16 + (65.481 * r.data[i]! + 128.553 * g[i]! + 24.966 * b[i]!) / 255;
  }
  return { width: r.width, height: r.height, data };
}

/** Full-reference quality metrics of `image` against `reference` (same size), with `border` pixels cropped. */
export function imageMetrics(
  image: ImageBuffer,
  reference: ImageBuffer,
  border: number,
): { psnr: number; ssim: number; psnrY: number; ssimY: number } {
  const a = planes255(image, border);
  const b = planes255(reference, border);
  // A grayscale image compared with a colour one: compare luma only, on both sides alike.
  const same = a.length === b.length;
  const ya = lumaPlane255(a);
  const yb = lumaPlane255(b);
  const ac = same ? a : [ya];
  const bc = same ? b : [yb];
  const ssimRgb = ac.reduce((sum, p, i) => sum + ssim(p, bc[i]!), 0) / ac.length;
  return { psnr: psnr(ac, bc), ssim: ssimRgb, psnrY: psnr([ya], [yb]), ssimY: ssim(ya, yb) };
}
