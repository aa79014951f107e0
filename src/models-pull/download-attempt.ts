import type { Hash } from 'node:crypto';
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import type http from 'node:http';
import { AtelierError } from '../errors/atelier-error.js';
import { safeRequest, type SafeRequestOptions } from '../net/safe-request.js';
import { formatBytes } from './byte-size.js';
import { assertFreeSpace } from './disk-space.js';
import { ifRangeValidator, writeMeta, type DownloadPaths, type PartialMeta } from './partial-file.js';
import { parseRetryAfter } from './retry-timing.js';
import { PullError, RetryablePullError } from './pull-errors.js';

/** The partial file as this run knows it; an attempt moves it forward. */
export interface TransferState {
  /** Bytes in the partial file. */
  offset: number;
  /** SHA-256 over those bytes, when the download is verified. */
  hash: Hash | undefined;
  /** What those bytes came from. */
  meta: PartialMeta | undefined;
  /** The full size, once a server said. */
  total: number | undefined;
}

export interface AttemptSettings extends Pick<SafeRequestOptions, 'lookup' | 'unsafeAllowDestinations'> {
  readonly url: string;
  readonly paths: DownloadPaths;
  readonly allowPrivate: boolean;
  readonly verify: boolean;
  readonly minFreeBytes: number;
  readonly connectTimeoutMs: number;
  readonly stallTimeoutMs: number;
  readonly onProgress: (received: number, total: number | undefined) => void;
  readonly onNote: (message: string) => void;
}

const HEADERS = { 'user-agent': 'Atelier/1 (models pull)', accept: '*/*', 'accept-encoding': 'identity' };
// A file host's redirect chain (a hub's resolve URL → a CDN's signed URL) can be a few hops long.
const MAX_REDIRECTS = 10;

/**
 * One request for the rest of the file, streamed into the partial file. Resolves when the
 * file is complete; throws {@link RetryablePullError} when trying again may help (the state
 * then says what is on disk), {@link PullError} when it cannot, or `signal`'s reason.
 */
export async function downloadAttempt(state: TransferState, settings: AttemptSettings, signal: AbortSignal): Promise<void> {
  const attempt = new AbortController();
  const stop = () => attempt.abort(signal.reason);
  signal.addEventListener('abort', stop, { once: true });
  if (signal.aborted) stop();
  try {
    const validator = state.offset > 0 ? ifRangeValidator(state.meta) : undefined;
    const response = await openResponse(settings, validator === undefined ? {} : { range: `bytes=${state.offset}-`, 'if-range': validator }, attempt);
    try {
      await receive(response, state, settings, validator, attempt);
    } finally {
      response.destroy();
    }
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

/** The response headers, within the connect timeout (DNS, connection, every redirect). */
async function openResponse(settings: AttemptSettings, range: Record<string, string>, attempt: AbortController): Promise<http.IncomingMessage> {
  const seconds = settings.connectTimeoutMs / 1000;
  const timer = setTimeout(() => attempt.abort(new RetryablePullError(`The server did not answer within ${seconds} s (--connect-timeout)`)), settings.connectTimeoutMs);
  try {
    const { response } = await safeRequest(settings.url, {
      headers: { ...HEADERS, ...range },
      maxRedirects: MAX_REDIRECTS,
      allowPrivate: settings.allowPrivate,
      signal: attempt.signal,
      ...(settings.lookup ? { lookup: settings.lookup } : {}),
      ...(settings.unsafeAllowDestinations ? { unsafeAllowDestinations: settings.unsafeAllowDestinations } : {}),
    });
    return response;
  } catch (error) {
    throw requestFailure(error, settings.allowPrivate);
  } finally {
    clearTimeout(timer);
  }
}

function requestFailure(error: unknown, allowPrivate: boolean): unknown {
  if (!(error instanceof AtelierError)) return error;
  if (error.code === 'url_refused') {
    return new PullError(allowPrivate ? error.message : `${error.message} (a mirror on your own network needs --allow-private)`, { cause: error });
  }
  const cause = error.cause as NodeJS.ErrnoException | undefined;
  if (cause?.code === 'ENOTFOUND') return new PullError(error.message, { cause: error });
  return new RetryablePullError(error.message, { cause: error });
}

async function receive(response: http.IncomingMessage, state: TransferState, settings: AttemptSettings, validator: string | undefined, attempt: AbortController): Promise<void> {
  const status = response.statusCode ?? 0;
  const headers = response.headers;
  const retryAfterMs = parseRetryAfter(headers['retry-after']);
  if (status === 408 || status === 429 || status >= 500) throw new RetryablePullError(`The server answered HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}`, retryAfterMs === undefined ? {} : { retryAfterMs });

  let restart: boolean;
  let total: number | undefined;
  if (status === 206 && validator !== undefined) {
    const range = parseContentRange(headers['content-range']);
    if (range?.start !== state.offset) return startOverLater(state, `The server sent another part of the file than asked (${headers['content-range'] ?? 'no Content-Range'}); starting over`);
    restart = false;
    total = range.total ?? state.total;
  } else if (status === 416 && validator !== undefined) {
    // The partial file is already whole: nothing is left to ask for.
    if (parseContentRange(headers['content-range'])?.total === state.offset) return;
    return startOverLater(state, `The server cannot resume at byte ${state.offset}; starting over`);
  } else if (status === 200) {
    if (state.offset > 0) settings.onNote(`${startOverReason(state.meta, validator, headers)}; starting over`);
    restart = true;
    const length = Number(headers['content-length']);
    total = headers['content-length'] !== undefined && Number.isSafeInteger(length) ? length : undefined;
  } else {
    throw new PullError(`The server answered HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}`);
  }

  const reclaimed = restart ? state.offset : 0;
  await assertFreeSpace(settings.paths.dir, total === undefined ? undefined : total - (restart ? 0 : state.offset), settings.minFreeBytes, reclaimed);

  const file = await open(settings.paths.partial, restart ? 'w' : 'a');
  try {
    if (restart) {
      state.offset = 0;
      state.hash = settings.verify ? createHash('sha256') : undefined;
      state.meta = {
        url: settings.url,
        ...(typeof headers.etag === 'string' ? { etag: headers.etag } : {}),
        ...(typeof headers['last-modified'] === 'string' ? { lastModified: headers['last-modified'] } : {}),
        ...(total === undefined ? {} : { total }),
      };
      // Before any byte: an interruption from here on leaves a partial file a later run can judge.
      await writeMeta(settings.paths, state.meta);
    }
    state.total = total;
    await streamInto(file, response, state, settings, attempt);
    if (total !== undefined && state.offset < total) {
      throw new RetryablePullError(`The connection closed after ${formatBytes(state.offset)} of ${formatBytes(total)}`);
    }
  } finally {
    await file.close();
  }
}

/** Appends the body to the partial file, hashing what was written; a stall aborts the attempt. */
async function streamInto(file: FileHandle, response: http.IncomingMessage, state: TransferState, settings: AttemptSettings, attempt: AbortController): Promise<void> {
  const seconds = settings.stallTimeoutMs / 1000;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => attempt.abort(new RetryablePullError(`No data for ${seconds} s (--stall-timeout)`)), settings.stallTimeoutMs);
  };
  arm();
  settings.onProgress(state.offset, state.total);
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      arm();
      await writeAll(file, chunk, settings.paths.partial);
      state.hash?.update(chunk);
      state.offset += chunk.length;
      settings.onProgress(state.offset, state.total);
    }
  } catch (error) {
    if (attempt.signal.aborted) throw attempt.signal.reason;
    if (error instanceof PullError) throw error;
    throw new RetryablePullError(`The connection broke after ${formatBytes(state.offset)}: ${(error as Error).message}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

async function writeAll(file: FileHandle, chunk: Buffer, path: string): Promise<void> {
  try {
    for (let written = 0; written < chunk.length; ) written += (await file.write(chunk, written)).bytesWritten;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const what = code === 'ENOSPC' ? 'the disk is full' : (error as Error).message;
    throw new PullError(`Could not write ${path}: ${what}. What was downloaded is kept; run the command again to resume.`, { cause: error });
  }
}

/** Empties the partial file's claim, so the next attempt asks for the whole file. */
function startOverLater(state: TransferState, message: string): never {
  state.offset = 0;
  state.meta = undefined;
  state.hash = undefined;
  throw new RetryablePullError(message);
}

function startOverReason(meta: PartialMeta | undefined, validator: string | undefined, headers: http.IncomingHttpHeaders): string {
  if (validator === undefined) return 'The server gives no ETag or Last-Modified, so the download cannot be resumed safely';
  const changed = (meta?.etag !== undefined && headers.etag !== meta.etag) || (meta?.etag === undefined && headers['last-modified'] !== meta?.lastModified);
  return changed ? 'The file changed on the server since the download began' : 'The server does not resume downloads (it ignored the Range request)';
}

// Content-Range: `bytes 100-999/1000`, `bytes */1000` (with 416) or `bytes 100-999/*`.
function parseContentRange(value: string | undefined): { start: number | undefined; total: number | undefined } | undefined {
  const match = /^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/i.exec(value?.trim() ?? '');
  if (!match) return undefined;
  return { start: match[1] === undefined ? undefined : Number(match[1]), total: match[3] === '*' ? undefined : Number(match[3]) };
}
