import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { listFiles } from '../server/run-files';
import type { RunFile } from '../server/types';

/**
 * Where run inputs and outputs live when servers and workers are on different machines. Every server and worker
 * must reach the same store. Executors write to local paths, so the store hands out folders: a shared folder gives
 * its own; an object store would download inputs into a cache folder and upload a staged folder on commit.
 */
export interface BlobStore {
  /** Folders a run may read its inputs (uploads) from. */
  inputRoots(): readonly string[];
  /** A new, empty, private folder for one attempt of a run to write its outputs into. */
  stage(runId: string): Promise<string>;
  /**
   * Publishes a staged folder as the run's outputs, atomically. `exists` when the run already has outputs (an
   * earlier attempt committed them): the staged folder is then discarded, so a run that executed twice never has
   * two results or a half-written one.
   */
  commit(runId: string, stagedDir: string): Promise<'committed' | 'exists'>;
  /** Removes a staged folder (a failed or cancelled attempt). */
  discard(stagedDir: string): Promise<void>;
  /** Removes every staged folder of a run (left by attempts whose worker stopped). */
  discardStaged(runId: string): Promise<void>;
  /** The committed output files of a run (empty when none). */
  files(runId: string): Promise<RunFile[]>;
  /** Deletes a run's committed outputs (history pruning). */
  remove(runId: string): Promise<void>;
}

/**
 * A BlobStore on a folder every machine mounts at some path (NFS, SMB, a bind mount): `DATA/uploads` for inputs,
 * `DATA/runs/<id>/` for outputs (the layout `coser serve` serves from) and `DATA/runs/.staging/` for attempts in
 * progress. Staging sits on the same file system as the run folders, so the commit is one `rename`.
 *
 * @example
 * const store = new SharedFolderStore('/mnt/coser');
 * const dir = await store.stage(runId); // ... execute into dir ...
 * await store.commit(runId, dir);
 */
export class SharedFolderStore implements BlobStore {
  readonly dataDir: string;
  readonly uploadsDir: string;
  readonly runsDir: string;
  private readonly stagingDir: string;

  constructor(dataDir: string) {
    this.dataDir = resolve(dataDir);
    this.uploadsDir = join(this.dataDir, 'uploads');
    this.runsDir = join(this.dataDir, 'runs');
    // Hidden: the server's file listings skip dot folders, so a staged attempt is never served.
    this.stagingDir = join(this.runsDir, '.staging');
  }

  inputRoots(): readonly string[] {
    return [this.uploadsDir];
  }

  async stage(runId: string): Promise<string> {
    const dir = join(this.stagingDir, `${runId}.${randomUUID()}`);
    await mkdir(dir, { recursive: true });
    await mkdir(this.uploadsDir, { recursive: true });
    return dir;
  }

  async commit(runId: string, stagedDir: string): Promise<'committed' | 'exists'> {
    const target = this.runDir(runId);
    try {
      // rename(2) replaces an empty folder but refuses a non-empty one: the first attempt to commit wins.
      await rename(stagedDir, target);
      return 'committed';
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      await this.discard(stagedDir);
      return 'exists';
    }
  }

  async discard(stagedDir: string): Promise<void> {
    await rm(stagedDir, { recursive: true, force: true });
  }

  async discardStaged(runId: string): Promise<void> {
    const names = await readdir(this.stagingDir).catch(() => [] as string[]);
    for (const name of names) if (name.startsWith(`${runId}.`)) await this.discard(join(this.stagingDir, name));
  }

  files(runId: string): Promise<RunFile[]> {
    return listFiles(this.runDir(runId));
  }

  async remove(runId: string): Promise<void> {
    await rm(this.runDir(runId), { recursive: true, force: true });
  }

  private runDir(runId: string): string {
    // Run ids are UUIDs chosen by the server; refuse anything else rather than build a path from it.
    if (!/^[0-9a-f-]{36}$/.test(runId)) throw new Error(`not a run id: ${runId}`);
    return join(this.runsDir, runId);
  }
}
