import type http from 'node:http';
import { AtelierError } from '../errors/atelier-error.js';
import type { ErrorCode } from '../errors/catalog.js';
import { safeRequest, type SafeRequestOptions } from './safe-request.js';

export type { ResolvedAddress } from './safe-request.js';

export interface SafeFetchOptions extends Pick<SafeRequestOptions, 'maxRedirects' | 'allowedProtocols' | 'lookup' | 'field' | 'signal' | 'unsafeAllowDestinations'> {
  /** The download stops (`url_too_large`) as soon as the body would exceed this. */
  readonly maxBytes: number;
  /** One budget for everything — DNS, every hop, the whole body — then `url_timeout`. */
  readonly timeoutMs: number;
}

export interface SafeFetchResult {
  readonly bytes: Buffer;
  readonly contentType: string | undefined;
  /** The URL the bytes came from, after redirects. */
  readonly finalUrl: string;
}

// No Accept-Encoding: the body arrives as sent, so maxBytes caps what is stored, not a zip bomb's input.
const HEADERS = { 'user-agent': 'Atelier/1 (image fetch)', accept: 'image/*,*/*;q=0.5' };

/**
 * GETs a user-given URL without letting it reach the server's own network (SSRF) and returns
 * the whole body, up to `maxBytes`. The guard is {@link safeRequest}'s: every hop (redirects
 * are followed by hand) must be a public address, and the socket is pinned to the address
 * that was checked, so DNS rebinding cannot redirect it.
 *
 * Errors are `AtelierError`s: `url_refused` (scheme, address, redirects), `url_fetch_failed`
 * (DNS, connection, non-2xx), `url_too_large` (body over `maxBytes`), `url_timeout`.
 *
 * @example const { bytes } = await safeFetch(body.image_url, { maxBytes: 10 << 20, timeoutMs: 15_000, field: 'image_url' })
 */
export async function safeFetch(url: string, options: SafeFetchOptions): Promise<SafeFetchResult> {
  const fail = (code: ErrorCode, message: string, cause?: unknown) =>
    new AtelierError(code, message, { ...(options.field ? { field: options.field } : {}), ...(cause === undefined ? {} : { cause }) });

  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(fail('url_timeout', `The URL did not deliver within ${options.timeoutMs} ms`)), options.timeoutMs);
  const cancel = () => deadline.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', cancel, { once: true });
  if (options.signal?.aborted) cancel();
  const { signal } = deadline;

  try {
    // allowPrivate stays off whatever the options object carries: these URLs come from API callers.
    const { response, finalUrl } = await safeRequest(url, { ...options, headers: HEADERS, allowPrivate: false, signal });
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 299) {
      response.destroy();
      throw fail('url_fetch_failed', `The URL answered with HTTP ${status}`);
    }
    const bytes = await readCapped(response, options.maxBytes, () => fail('url_too_large', `The resource at the URL is larger than ${options.maxBytes} bytes`));
    return { bytes, contentType: response.headers['content-type'], finalUrl };
  } catch (error) {
    // Whatever failed after the deadline (a socket reset, an aborted read) failed because of it.
    if (signal.aborted) throw signal.reason;
    if (error instanceof AtelierError) throw error;
    throw fail('url_fetch_failed', `The URL could not be fetched: ${(error as Error).message}`, error);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', cancel);
  }
}

/** Reads the body, refusing as soon as it is (or announces to be) larger than `maxBytes`. */
async function readCapped(response: http.IncomingMessage, maxBytes: number, tooLarge: () => AtelierError): Promise<Buffer> {
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.destroy();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      response.destroy();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}
