import { createHash } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SafeRequestOptions } from '../net/safe-request.js';
import { formatBytes, formatDuration } from './byte-size.js';
import { downloadAttempt, type TransferState } from './download-attempt.js';
import { discardPartial, downloadPaths, hashPrefix, readResumePoint } from './partial-file.js';
import { PullError, PullInterrupted, RetryablePullError } from './pull-errors.js';
import { retryWaitMs, type BackoffSettings } from './retry-timing.js';

export interface PullModelOptions extends Pick<SafeRequestOptions, 'lookup' | 'unsafeAllowDestinations'> {
  /** http(s) URL of the file. Every hop must be a public address unless `allowPrivate`. */
  readonly url: string;
  /** The destination folder (created if missing). */
  readonly dir: string;
  /** The file's name in `dir`. */
  readonly name: string;
  /** Expected SHA-256, hex. The file is deleted on a mismatch. */
  readonly sha256?: string;
  /** Refuse to start when the disk would keep less than this free. Default 1 GiB. */
  readonly minFreeBytes?: number;
  /** Retries after failures without progress in between. Default 5. */
  readonly retries?: number;
  /** Until the response headers arrive (DNS, connection, redirects). Default 30 s. */
  readonly connectTimeoutMs?: number;
  /** Longest wait for the next bytes before retrying from the partial file. Default 60 s. */
  readonly stallTimeoutMs?: number;
  /** Private and loopback addresses allowed (a local mirror). Default false. */
  readonly allowPrivate?: boolean;
  /** Default 1 s doubling to 60 s, with jitter. */
  readonly backoff?: BackoffSettings;
  /** Aborting (Ctrl-C) stops at once and keeps the partial file: {@link PullInterrupted}. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (received: number, total: number | undefined) => void;
  /** Things worth telling the user: resuming, starting over, retrying. */
  readonly onNote?: (message: string) => void;
}

export interface PullResult {
  /** The final file. */
  readonly path: string;
  readonly bytes: number;
  /** Bytes that were already there from an earlier run. */
  readonly resumedFrom: number;
  /** Set when the download was verified against `sha256`. */
  readonly verified: boolean;
}

export const PULL_DEFAULTS = {
  minFreeBytes: 1024 ** 3,
  retries: 5,
  connectTimeoutMs: 30_000,
  stallTimeoutMs: 60_000,
  backoff: { baseMs: 1000, maxMs: 60_000 },
} as const;

/**
 * Downloads one large file (a model checkpoint) into `dir/name`, resumably: the bytes go to
 * `name.partial`, described by `name.partial.json` (URL, ETag/Last-Modified, size), and a later
 * run — or a retry in this one — asks only for the rest, with If-Range so a changed file comes
 * back whole. The final name appears only once the file is complete, verified, fsynced and
 * renamed. Errors: {@link PullError} (with a message for the user), {@link PullInterrupted}.
 *
 * @example await pullModel({ url, dir: '/models/checkpoints', name: 'sdxl.safetensors', sha256 })
 */
export async function pullModel(options: PullModelOptions): Promise<PullResult> {
  const paths = downloadPaths(options.dir, options.name);
  const signal = options.signal ?? new AbortController().signal;
  const note = options.onNote ?? (() => undefined);
  const retries = options.retries ?? PULL_DEFAULTS.retries;
  const backoff = options.backoff ?? PULL_DEFAULTS.backoff;

  if (await exists(paths.final)) throw new PullError(`${paths.final} already exists; delete it first or choose another --name`);
  await mkdir(options.dir, { recursive: true });

  const start = await readResumePoint(paths, options.url);
  const state: TransferState = { offset: start.offset, meta: start.meta, total: start.meta?.total, hash: undefined };
  try {
    if (state.offset > 0) {
      note(`Resuming ${paths.partial} at ${formatBytes(state.offset)}${state.total === undefined ? '' : ` of ${formatBytes(state.total)}`}`);
      // The hash must cover the whole file, so what an earlier run wrote is read first.
      if (options.sha256 !== undefined) state.hash = await hashPrefix(paths.partial, state.offset, signal);
    } else if (options.sha256 !== undefined) {
      state.hash = createHash('sha256');
    }
    await transfer(state, options, paths, retries, backoff, signal, note);
  } catch (error) {
    if (signal.aborted) throw new PullInterrupted(paths.partial, state.offset);
    throw error;
  }

  if (options.sha256 !== undefined) {
    const actual = state.hash!.digest('hex');
    if (actual !== options.sha256.toLowerCase()) {
      await discardPartial(paths);
      throw new PullError(`SHA-256 mismatch: expected ${options.sha256.toLowerCase()} but the download is ${actual}. The file was deleted.`);
    }
  }
  await durablyRename(paths.partial, paths.final, options.dir);
  await rm(paths.meta, { force: true });
  return { path: paths.final, bytes: state.offset, resumedFrom: start.offset, verified: options.sha256 !== undefined };
}

/** Attempts until the file is complete; progress between two failures resets their count. */
async function transfer(
  state: TransferState,
  options: PullModelOptions,
  paths: ReturnType<typeof downloadPaths>,
  retries: number,
  backoff: BackoffSettings,
  signal: AbortSignal,
  note: (message: string) => void,
): Promise<void> {
  const settings = {
    url: options.url,
    paths,
    allowPrivate: options.allowPrivate ?? false,
    verify: options.sha256 !== undefined,
    minFreeBytes: options.minFreeBytes ?? PULL_DEFAULTS.minFreeBytes,
    connectTimeoutMs: options.connectTimeoutMs ?? PULL_DEFAULTS.connectTimeoutMs,
    stallTimeoutMs: options.stallTimeoutMs ?? PULL_DEFAULTS.stallTimeoutMs,
    onProgress: options.onProgress ?? (() => undefined),
    onNote: note,
    ...(options.lookup ? { lookup: options.lookup } : {}),
    ...(options.unsafeAllowDestinations ? { unsafeAllowDestinations: options.unsafeAllowDestinations } : {}),
  };
  let failures = 0;
  for (;;) {
    const before = state.offset;
    try {
      await downloadAttempt(state, settings, signal);
      return;
    } catch (error) {
      if (signal.aborted || !(error instanceof RetryablePullError)) throw error;
      failures = state.offset > before ? 1 : failures + 1;
      if (failures > retries) {
        const next = state.offset > 0 ? 'run the command again to resume' : 'nothing was downloaded';
        throw new PullError(`${error.message}. Gave up after ${retries} ${retries === 1 ? 'retry' : 'retries'}; ${next}.`, { cause: error });
      }
      const wait = retryWaitMs(failures, backoff, error.retryAfterMs);
      note(`${error.message}; retrying in ${formatDuration(wait)} (retry ${failures} of ${retries})`);
      await sleep(wait, undefined, { signal });
    }
  }
}

/** fsync, rename, fsync the folder: after a crash the final name holds all of the bytes or is absent. */
async function durablyRename(from: string, to: string, dir: string): Promise<void> {
  const file = await open(from, 'r+');
  try {
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(from, to);
  // Not every platform can open a folder for fsync (Windows); the rename itself is done.
  const folder = await open(dir, 'r').catch(() => undefined);
  try {
    await folder?.sync().catch(() => undefined);
  } finally {
    await folder?.close();
  }
}

function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
