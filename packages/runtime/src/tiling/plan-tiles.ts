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

/**
 * Tile starts along one axis: as few tiles of `tileSize` as cover `length` with at least `overlap` pixels shared
 * between neighbours, spread evenly so that every tile has the full size (models see the same size every time)
 * and the last one ends exactly at the edge.
 */
export function tileStarts(length: number, tileSize: number, overlap: number): number[] {
  if (length <= tileSize) return [0];
  const step = tileSize - overlap;
  const count = Math.ceil((length - overlap) / step);
  const span = length - tileSize;
  return Array.from({ length: count }, (_, i) => Math.round((i * span) / (count - 1)));
}

/**
 * Splits a width x height image into overlapping tiles (row by row). `overlap` is clamped below half the tile so
 * at most two tiles overlap along an axis in the common case; blending handles more anyway.
 *
 * @example
 * planTiles(1000, 600, 512, 32); // 3 x 2 tiles of 512 x 512: x at 0, 244, 488; y at 0, 88
 */
export function planTiles(width: number, height: number, tileSize: number, overlap: number): TileRect[] {
  if (!(width >= 1 && height >= 1)) throw new RangeError(`cannot tile a ${width}x${height} image`);
  if (!(tileSize >= 1)) throw new RangeError(`tile size must be positive (got ${tileSize})`);
  const size = Math.floor(tileSize);
  const safeOverlap = Math.max(0, Math.min(Math.floor(overlap), Math.floor((size - 1) / 2)));
  const xs = tileStarts(width, size, safeOverlap);
  const ys = tileStarts(height, size, safeOverlap);
  const tiles: TileRect[] = [];
  for (const [row, y] of ys.entries()) {
    for (const [col, x] of xs.entries()) {
      tiles.push({
        x,
        y,
        width: Math.min(size, width - x),
        height: Math.min(size, height - y),
        col,
        row,
        index: tiles.length,
      });
    }
  }
  return tiles;
}
