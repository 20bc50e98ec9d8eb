// Types of fresh-bundle.js (plain JavaScript: the bin runs it before anything TypeScript is set up).

/** Whether the build in `buildDir` matches the sources its inputs.json lists (paths relative to `baseDir`). */
export function buildFreshness(
  buildDir: string,
  baseDir: string,
): { fresh: true } | { fresh: false; missing: boolean; reason: string };

/** Whether `coser` may run the bundled command line in `bundleDir`. */
export function freshBundle(
  bundleDir: string,
  baseDir: string,
): { fresh: true; entry: string } | { fresh: false; reason: string };

/** Writes `buildDir/inputs.json` for {@link buildFreshness}; resolves with the number of sources recorded. */
export function writeBuildInputs(
  buildDir: string,
  baseDir: string,
  files: Iterable<string>,
  startedAt: number,
): Promise<number>;
