/**
 * An image as the runtime passes it between nodes: planar (CHW) float32 in [0, 1], the layout ONNX models want.
 * Values may leave [0, 1] between nodes (an SR net's output is not clamped); encoders clamp.
 */
export interface ImageBuffer {
  readonly width: number;
  readonly height: number;
  /** 1 = grayscale, 3 = RGB, 4 = RGBA (alpha is the last plane, straight, not premultiplied). */
  readonly channels: 1 | 3 | 4;
  /** Length width * height * channels, plane after plane. */
  readonly data: Float32Array;
  /** What produced this image, carried into the provenance of saved outputs. */
  readonly meta?: ImageMeta;
}

/** Provenance that travels with an image through the graph. */
export interface ImageMeta {
  /** Models that touched the image: manifest name and the sha256 of the file that ran. */
  models?: readonly { name: string; sha256: string }[];
  seeds?: readonly number[];
  tiles?: { size: number; overlap: number };
  /** The file name (base name, no folder) of the input this image came from, for output naming. */
  sourceName?: string;
  /**
   * What whoever looks at the image must know about how it was made (e.g. "made by random-weight contract models:
   * meaningless pixels by design"): shown with run results and recorded in saved outputs' provenance.
   */
  notes?: readonly string[];
}

export function createImage(
  width: number,
  height: number,
  channels: 1 | 3 | 4,
  data?: Float32Array,
  meta?: ImageMeta,
): ImageBuffer {
  const length = width * height * channels;
  if (data && data.length !== length) {
    throw new RangeError(`image data has ${data.length} values, expected ${width}x${height}x${channels} = ${length}`);
  }
  return { width, height, channels, data: data ?? new Float32Array(length), ...(meta ? { meta } : {}) };
}

/** One channel plane as a view (no copy). */
export function plane(image: ImageBuffer, channel: number): Float32Array {
  const size = image.width * image.height;
  return image.data.subarray(channel * size, (channel + 1) * size);
}

/** Merges provenance of several inputs (e.g. an upscale of an image that already went through a model). */
export function mergeMeta(...metas: (ImageMeta | undefined)[]): ImageMeta | undefined {
  const present = metas.filter((m): m is ImageMeta => m !== undefined);
  if (present.length === 0) return undefined;
  const models = present.flatMap((m) => m.models ?? []);
  const seeds = present.flatMap((m) => m.seeds ?? []);
  const tiles = present.find((m) => m.tiles)?.tiles;
  const sourceName = present.find((m) => m.sourceName)?.sourceName;
  const notes = [...new Set(present.flatMap((m) => m.notes ?? []))];
  return {
    ...(models.length ? { models } : {}),
    ...(seeds.length ? { seeds } : {}),
    ...(tiles ? { tiles } : {}),
    ...(sourceName ? { sourceName } : {}),
    ...(notes.length ? { notes } : {}),
  };
}
