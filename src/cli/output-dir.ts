import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CliError } from './cli-error.js';

/** sysexits' EX_CANTCREAT: "a (user specified) output file cannot be created". */
export const EXIT_CANNOT_CREATE = 73;

/**
 * Checks that `dir` is, or can become, a writable directory — before anything renders, so a
 * typo in `--out` costs nothing. The directory itself is not created here (a refused request
 * leaves nothing behind): the nearest existing ancestor must be a directory we may write to.
 *
 * @example await checkOutputDir('/tmp/out/a/b') // ok when /tmp is writable
 * @throws CliError with exit code 73 naming the part that is not a writable directory.
 */
export async function checkOutputDir(dir: string): Promise<void> {
  let probe = dir;
  for (;;) {
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(probe)).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const parent = dirname(probe);
      // Missing (or under a file: ENOTDIR): look one level up.
      if ((code === 'ENOENT' || code === 'ENOTDIR') && parent !== probe) {
        probe = parent;
        continue;
      }
      throw new CliError(`Cannot write to --out ${dir}: ${code ?? (error as Error).message}`, EXIT_CANNOT_CREATE);
    }
    if (!isDirectory) throw new CliError(`Cannot write to --out ${dir}: ${probe} is not a directory`, EXIT_CANNOT_CREATE);
    try {
      await access(probe, constants.W_OK | constants.X_OK);
    } catch (error) {
      throw new CliError(`Cannot write to --out ${dir}: ${probe} is not writable (${(error as NodeJS.ErrnoException).code})`, EXIT_CANNOT_CREATE);
    }
    return;
  }
}
