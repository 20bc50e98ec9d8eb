import { SAMPLE_IMAGES } from '../graph/samples';

const FETCH_TIMEOUT_MS = 5000;

/**
 * Fetches the bundled sample photos into the worker's uploads under the names the presets use
 * (`samples/astronaut-lr.png`), so a preset's Load Image reads one as it would read a dropped image. A sample that
 * cannot be fetched stays missing: a run naming it reports FILE_NOT_FOUND as for any missing upload.
 */
export async function loadSampleImages(addUpload: (id: string, bytes: Uint8Array) => void): Promise<void> {
  await Promise.all(
    [...SAMPLE_IMAGES].map(async ([name, url]) => {
      try {
        // The editor waits for these: a server that does not answer must not hold it up for long.
        const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
        if (response.ok) addUpload(name, new Uint8Array(await response.arrayBuffer()));
      } catch {
        // Offline, blocked or too slow: see above.
      }
    }),
  );
}
