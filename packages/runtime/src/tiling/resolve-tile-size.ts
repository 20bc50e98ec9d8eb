export interface TileSizeContext {
  readonly width: number;
  readonly height: number;
  /** Input channels. */
  readonly channels: number;
  /** Output channels; default: `channels`. */
  readonly outChannels?: number;
  /** Output size / input size. */
  readonly scale: number;
  /**
   * Extra working memory per input pixel while a tile runs (a model's activations). Default 256 bytes: a
   * 64-channel float32 feature map (ESRGAN-like) held once.
   */
  readonly bytesPerPixel?: number;
  readonly memoryBudgetBytes: number;
}

export const MIN_TILE_SIZE = 64;
export const MAX_TILE_SIZE = 2048;
const TILE_STEP = 32;
const DEFAULT_BYTES_PER_PIXEL = 256;

/** Working memory of one tile of `size` x `size`: input tile, output tile and the model's activations. */
export function tileWorkingBytes(size: number, context: TileSizeContext): number {
  const pixels = size * size;
  const input = pixels * context.channels * 4;
  const output = pixels * context.scale * context.scale * (context.outChannels ?? context.channels) * 4;
  return input + output + pixels * (context.bytesPerPixel ?? DEFAULT_BYTES_PER_PIXEL);
}

/**
 * The tile size to use. A number is used as given (at least 1). `'auto'` picks the largest multiple of 32 from 64
 * to 2048 whose working memory (`tileWorkingBytes`) fits the memory budget, but no larger than the image needs;
 * when even 64 does not fit, 64.
 *
 * @example
 * resolveTileSize('auto', { width: 4096, height: 4096, channels: 3, scale: 4, memoryBudgetBytes: 512 * 1024 ** 2 });
 */
export function resolveTileSize(tileSize: number | 'auto', context: TileSizeContext): number {
  if (tileSize !== 'auto') return Math.max(1, Math.floor(tileSize));
  const needed = Math.ceil(Math.max(context.width, context.height) / TILE_STEP) * TILE_STEP;
  const cap = Math.max(MIN_TILE_SIZE, Math.min(MAX_TILE_SIZE, needed));
  for (let size = Math.floor(cap / TILE_STEP) * TILE_STEP; size > MIN_TILE_SIZE; size -= TILE_STEP) {
    if (tileWorkingBytes(size, context) <= context.memoryBudgetBytes) return size;
  }
  return MIN_TILE_SIZE;
}
