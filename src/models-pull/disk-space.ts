import { statfs } from 'node:fs/promises';
import { formatBytes } from './byte-size.js';
import { PullError } from './pull-errors.js';

/**
 * Refuses (PullError) when writing `neededBytes` more into `dir` would leave less than
 * `minFreeBytes` free. `reclaimedBytes` is what will be deleted first (a partial file that is
 * started over). With an unknown size only the reserve itself is checked.
 */
export async function assertFreeSpace(dir: string, neededBytes: number | undefined, minFreeBytes: number, reclaimedBytes = 0): Promise<void> {
  const stats = await statfs(dir);
  const free = stats.bavail * stats.bsize + reclaimedBytes;
  const needed = neededBytes ?? 0;
  if (free - needed >= minFreeBytes) return;
  const need = neededBytes === undefined ? `the download's size is unknown` : `the download needs ${formatBytes(needed)} more`;
  throw new PullError(
    `Not enough free space in ${dir}: ${need}, ${formatBytes(free)} is free and ${formatBytes(minFreeBytes)} must stay free (--min-free). Free some space or lower --min-free.`,
  );
}
