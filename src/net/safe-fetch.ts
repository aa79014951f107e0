import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { AtelierError, describeValue } from '../errors/atelier-error.js';
import type { ErrorCode } from '../errors/catalog.js';
import { isLocalHostname, isPublicAddress } from './address-policy.js';

/** One address a host name resolves to. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

export interface SafeFetchOptions {
  /** The download stops (`url_too_large`) as soon as the body would exceed this. */
  readonly maxBytes: number;
  /** Redirects followed before `url_refused`. Default 3. */
  readonly maxRedirects?: number;
  /** One budget for everything — DNS, every hop, the whole body — then `url_timeout`. */
  readonly timeoutMs: number;
  /** Default `['http:', 'https:']`. Other schemes (file:, ftp:, data:, gopher:) are never fetched. */
  readonly allowedProtocols?: readonly ('http:' | 'https:')[];
  /** Resolves a host name to every address it has. Default: the system resolver (`dns.lookup`). */
  readonly lookup?: (hostname: string) => Promise<readonly ResolvedAddress[]>;
  /** Names the request field the URL came from, in errors (e.g. `image_url`). */
  readonly field?: string;
  readonly signal?: AbortSignal;
  /**
   * TESTS ONLY. Exact `ip:port` destinations (`127.0.0.1:41234`, `[::1]:41234`) exempt from
   * the public-address rule, so tests can reach a local server. Any other address — the same
   * IP on another port included — is still refused, on the first hop and on every redirect.
   * Never set this from configuration.
   */
  readonly unsafeAllowDestinations?: readonly string[];
}

export interface SafeFetchResult {
  readonly bytes: Buffer;
  readonly contentType: string | undefined;
  /** The URL the bytes came from, after redirects. */
  readonly finalUrl: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// No Accept-Encoding: the body arrives as sent, so maxBytes caps what is stored, not a zip bomb's input.
const HEADERS = { 'user-agent': 'Atelier/1 (image fetch)', accept: 'image/*,*/*;q=0.5' };

/**
 * GETs a user-given URL without letting it reach the server's own network (SSRF). Every hop —
 * the first and each redirect, which are followed by hand — is checked: scheme, host name, and
 * every address the name resolves to must be public ({@link isPublicAddress}). The connection
 * then goes to the checked address itself (the socket's DNS lookup is pinned to it), so a name
 * that resolves differently a moment later (DNS rebinding) cannot redirect it.
 *
 * Errors are `AtelierError`s: `url_refused` (scheme, address, redirects), `url_fetch_failed`
 * (DNS, connection, non-2xx), `url_too_large` (body over `maxBytes`), `url_timeout`.
 *
 * @example const { bytes } = await safeFetch(body.image_url, { maxBytes: 10 << 20, timeoutMs: 15_000, field: 'image_url' })
 */
export async function safeFetch(url: string, options: SafeFetchOptions): Promise<SafeFetchResult> {
  const fail = (code: ErrorCode, message: string, cause?: unknown) =>
    new AtelierError(code, message, { ...(options.field ? { field: options.field } : {}), ...(cause === undefined ? {} : { cause }) });
  const maxRedirects = options.maxRedirects ?? 3;
  const protocols: readonly string[] = options.allowedProtocols ?? ['http:', 'https:'];
  const allowed = new Set(options.unsafeAllowDestinations ?? []);
  const lookup = options.lookup ?? systemLookup;

  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(fail('url_timeout', `The URL did not deliver within ${options.timeoutMs} ms`)), options.timeoutMs);
  const cancel = () => deadline.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', cancel, { once: true });
  if (options.signal?.aborted) cancel();
  const { signal } = deadline;

  /** Checks one hop's URL and returns the address to connect to. */
  async function destination(target: URL): Promise<ResolvedAddress> {
    if (!protocols.includes(target.protocol)) throw fail('url_refused', `Expected an ${protocols.join(' or ')} URL but received ${describeValue(target.protocol)}`);
    const host = target.hostname.replace(/^\[|\]$/g, '');
    const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
    const family = isIP(host);
    if (family === 0 && isLocalHostname(host)) throw fail('url_refused', `The host ${host} is not a public host name`);
    let addresses: readonly ResolvedAddress[];
    try {
      addresses = family === 0 ? await untilAborted(lookup(host), signal) : [{ address: host, family: family as 4 | 6 }];
    } catch (error) {
      if (signal.aborted) throw error;
      throw fail('url_fetch_failed', `The host ${host} could not be resolved`, error);
    }
    if (addresses.length === 0) throw fail('url_fetch_failed', `The host ${host} has no address`);
    // Every address, not just the first: the connection must not depend on which one a retry picks.
    for (const { address, family: f } of addresses) {
      const key = f === 6 ? `[${address}]:${port}` : `${address}:${port}`;
      if (!isPublicAddress(address) && !allowed.has(key)) throw fail('url_refused', `The host ${host} resolves to ${address}, which is not a public address`);
    }
    return addresses[0]!;
  }

  try {
    let current = parseUrl(url, fail);
    for (let redirects = 0; ; redirects++) {
      const response = await get(current, await destination(current), signal);
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (REDIRECTS.has(status) && location) {
        response.destroy();
        if (redirects >= maxRedirects) throw fail('url_refused', `The URL redirected more than ${maxRedirects} times`);
        current = parseUrl(new URL(location, current).href, fail);
        continue;
      }
      if (status < 200 || status > 299) {
        response.destroy();
        throw fail('url_fetch_failed', `The URL answered with HTTP ${status}`);
      }
      const bytes = await readCapped(response, options.maxBytes, () => fail('url_too_large', `The resource at the URL is larger than ${options.maxBytes} bytes`));
      return { bytes, contentType: response.headers['content-type'], finalUrl: current.href };
    }
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

function parseUrl(url: string, fail: (code: ErrorCode, message: string) => AtelierError): URL {
  try {
    return new URL(url);
  } catch {
    throw fail('url_refused', `Expected an absolute http(s) URL but received ${describeValue(url)}`);
  }
}

/** One GET whose socket connects to `to`, whatever DNS says now. No agent: no pooled sockets. */
function get(url: URL, to: ResolvedAddress, signal: AbortSignal): Promise<http.IncomingMessage> {
  const pinned = ((_host: string, opts: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (opts.all) callback(null, [{ address: to.address, family: to.family }]);
    else callback(null, to.address, to.family);
  }) as unknown as LookupFunction;
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      // hostname stays the name, so TLS verifies the certificate against it (and sends SNI).
      { hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || undefined, path: `${url.pathname}${url.search}`, method: 'GET', headers: HEADERS, lookup: pinned, agent: false, signal },
      resolve,
    );
    request.on('error', reject);
    request.end();
  });
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

async function systemLookup(hostname: string): Promise<readonly ResolvedAddress[]> {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
}

/** dns.lookup cannot be canceled; stop waiting for it when the deadline passes. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
