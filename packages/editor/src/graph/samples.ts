/**
 * The sample photos in graphs/samples, bundled with the editor so that every preset runs as loaded: presets name
 * them `samples/NAME` (relative to graphs/, as the CLI resolves them), the worker holds their bytes under that same
 * name, and `coser serve` reads them from graphs/samples. Keyed by that name; the value is the bundled file's URL.
 */
export const SAMPLE_IMAGES: ReadonlyMap<string, string> = new Map(
  Object.entries(
    import.meta.glob<string>('../../../../graphs/samples/*.{png,jpg,jpeg,webp}', {
      eager: true,
      query: '?url',
      import: 'default',
    }),
  ).map(([path, url]) => [`samples/${path.split('/').pop()}`, url]),
);
