/** One tile of an image, in input pixels. */
export interface TileRect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** Position in the tile grid (row-major `index`). */
  readonly col: number;
  readonly row: number;
  readonly index: number;
}

/** Tile lengths are rounded up to this multiple (when the image allows) so models that downsample see whole blocks. */
const TILE_ALIGN = 8;

/** How one axis is cut: where each tile starts, and the one length every tile on that axis has. */
export interface TileSpans {
  readonly starts: number[];
  readonly length: number;
}

/**
 * Tiles along one axis: as few tiles as cover `length` with tiles no longer than `tileSize` sharing at least
 * `overlap` pixels, then each shrunk to the balanced length that still covers the axis with that overlap. Without
 * the shrinking, 512 px cut by 256 px tiles would take three full tiles (768 px of work); balanced, it takes three of
 * 184 px (552 px). All tiles on an axis have the same length, spread evenly so the last one ends at the edge.
 */
export function tileSpans(length: number, tileSize: number, overlap: number): TileSpans {
  if (length <= tileSize) return { starts: [0], length };
  const count = Math.ceil((length - overlap) / (tileSize - overlap));
  const balanced = Math.ceil((length + (count - 1) * overlap) / count);
  const tile = Math.min(tileSize, Math.ceil(balanced / TILE_ALIGN) * TILE_ALIGN);
  const span = length - tile;
  return { starts: Array.from({ length: count }, (_, i) => Math.round((i * span) / (count - 1))), length: tile };
}

/**
 * Splits a width x height image into overlapping tiles (row by row), at most `tileSize` on a side and balanced per
 * axis (see {@link tileSpans}). `overlap` is clamped below half the tile so at most two tiles overlap along an axis
 * in the common case; blending handles more anyway.
 *
 * @example
 * planTiles(1000, 600, 512, 32); // 3 x 2 tiles of 360 x 320: x at 0, 320, 640; y at 0, 280
 */
export function planTiles(width: number, height: number, tileSize: number, overlap: number): TileRect[] {
  if (!(width >= 1 && height >= 1)) throw new RangeError(`cannot tile a ${width}x${height} image`);
  if (!(tileSize >= 1)) throw new RangeError(`tile size must be positive (got ${tileSize})`);
  const size = Math.floor(tileSize);
  const safeOverlap = Math.max(0, Math.min(Math.floor(overlap), Math.floor((size - 1) / 2)));
  const columns = tileSpans(width, size, safeOverlap);
  const rows = tileSpans(height, size, safeOverlap);
  const tiles: TileRect[] = [];
  for (const [row, y] of rows.starts.entries()) {
    for (const [col, x] of columns.starts.entries()) {
      tiles.push({ x, y, width: columns.length, height: rows.length, col, row, index: tiles.length });
    }
  }
  return tiles;
}
