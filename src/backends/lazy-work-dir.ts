import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A job's scratch directory, made on first use only. */
export interface LazyWorkDir {
  /** The directory's path; reading it the first time creates the directory. */
  readonly path: string;
  /** Removes the directory and its contents if it was ever made. */
  remove(): Promise<void>;
}

/**
 * Most jobs (images) never touch a work directory, so making one per job costs a mkdtemp and a
 * recursive rm on the path to every result for nothing. The directory appears when a backend
 * reads `path` (a video encode, a streamed download); the synchronous mkdtemp then is one
 * syscall, taken only by the jobs that need it.
 */
export function lazyWorkDir(prefix: string): LazyWorkDir {
  let made: string | undefined;
  return {
    get path() {
      made ??= mkdtempSync(join(tmpdir(), prefix));
      return made;
    },
    async remove() {
      if (made !== undefined) await rm(made, { recursive: true, force: true });
    },
  };
}
