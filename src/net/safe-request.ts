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

export interface SafeRequestOptions {
  /** Redirects followed before `url_refused`. Default 3. */
  readonly maxRedirects?: number;
  /** Default `['http:', 'https:']`. Other schemes (file:, ftp:, data:, gopher:) are never fetched. */
  readonly allowedProtocols?: readonly ('http:' | 'https:')[];
  /** Resolves a host name to every address it has. Default: the system resolver (`dns.lookup`). */
  readonly lookup?: (hostname: string) => Promise<readonly ResolvedAddress[]>;
  /** Names the request field the URL came from, in errors (e.g. `image_url`). */
  readonly field?: string;
  /** Request headers, sent on every hop. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Private, loopback and local names are allowed too, on every hop (an operator's own
   * mirror, `atelier models pull --allow-private`). Never for URLs that API callers give.
   */
  readonly allowPrivate?: boolean;
  /** Aborting destroys the request and, once it has arrived, the response. */
  readonly signal?: AbortSignal;
  /** Default GET. A body (with POST) is sent on the first hop only. */
  readonly method?: 'GET' | 'POST';
  readonly body?: string | Buffer;
  /** False: a redirect is handed back like any other answer, not followed (webhooks). Default true. */
  readonly followRedirects?: boolean;
  /**
   * TESTS ONLY. Exact `ip:port` destinations (`127.0.0.1:41234`, `[::1]:41234`) exempt from
   * the public-address rule, so tests can reach a local server. Any other address — the same
   * IP on another port included — is still refused, on the first hop and on every redirect.
   * Never set this from configuration.
   */
  readonly unsafeAllowDestinations?: readonly string[];
}

export interface SafeResponse {
  /** The first answer that is not a redirect, whatever its status; its body not yet read. */
  readonly response: http.IncomingMessage;
  /** The URL that answered, after redirects. */
  readonly finalUrl: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * GETs (or POSTs to) a user-given URL without letting it reach the server's own network (SSRF)
 * and hands back the response unread, for callers that stream the body. Every hop — the first
 * and each redirect, which are followed by hand unless `followRedirects` is false — is
 * checked: scheme, host name, and every address the name resolves to must be public
 * ({@link isPublicAddress}) unless `allowPrivate`. The
 * connection then goes to the checked address itself (the socket's DNS lookup is pinned to
 * it), so a name that resolves differently a moment later (DNS rebinding) cannot redirect it.
 *
 * Errors are `AtelierError`s: `url_refused` (scheme, address, redirects), `url_fetch_failed`
 * (DNS, connection; the underlying error is the `cause`). When `signal` aborts, its reason is
 * thrown. Timeouts are the caller's, through `signal`.
 *
 * @example const { response } = await safeRequest(url, { headers: { range: 'bytes=100-' }, signal })
 */
export async function safeRequest(url: string, options: SafeRequestOptions = {}): Promise<SafeResponse> {
  const fail = failWith(options);
  const maxRedirects = options.maxRedirects ?? 3;
  const signal = options.signal ?? new AbortController().signal;

  try {
    let current = parseUrl(url, fail);
    for (let redirects = 0; ; redirects++) {
      const first = redirects === 0;
      const response = await send(current, await checkedDestination(current, options, signal), options.headers ?? {}, signal, first ? options.method : 'GET', first ? options.body : undefined);
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (!REDIRECTS.has(status) || !location || options.followRedirects === false) return { response, finalUrl: current.href };
      response.destroy();
      if (redirects >= maxRedirects) throw fail('url_refused', `The URL redirected more than ${maxRedirects} times`);
      current = parseUrl(new URL(location, current).href, fail);
    }
  } catch (error) {
    // Whatever failed after an abort (a socket reset, an aborted read) failed because of it.
    if (signal.aborted) throw signal.reason;
    if (error instanceof AtelierError) throw error;
    throw fail('url_fetch_failed', `The URL could not be fetched: ${(error as Error).message}`, error);
  }
}

/**
 * Checks a user-given URL as {@link safeRequest} checks each hop — scheme, host name, every
 * address the name resolves to — without connecting: for URLs stored now and fetched later
 * (webhooks), so a bad one is refused when it is given. The fetch checks again, since DNS may
 * answer differently by then. Throws what safeRequest throws (`url_refused`, `url_fetch_failed`).
 *
 * @example await checkUrl(body.webhook, { allowedProtocols: ['https:'], field: 'webhook' })
 */
export async function checkUrl(url: string, options: Pick<SafeRequestOptions, 'allowedProtocols' | 'lookup' | 'field' | 'allowPrivate' | 'unsafeAllowDestinations' | 'signal'> = {}): Promise<void> {
  const fail = failWith(options);
  await checkedDestination(parseUrl(url, fail), options, options.signal ?? new AbortController().signal);
}

function failWith(options: Pick<SafeRequestOptions, 'field'>) {
  return (code: ErrorCode, message: string, cause?: unknown) =>
    new AtelierError(code, message, { ...(options.field ? { field: options.field } : {}), ...(cause === undefined ? {} : { cause }) });
}

/** Checks one hop's URL and returns the address to connect to. */
async function checkedDestination(target: URL, options: SafeRequestOptions, signal: AbortSignal): Promise<ResolvedAddress> {
  const fail = failWith(options);
  const protocols: readonly string[] = options.allowedProtocols ?? ['http:', 'https:'];
  const allowed = new Set(options.unsafeAllowDestinations ?? []);
  const lookup = options.lookup ?? systemLookup;
  if (!protocols.includes(target.protocol)) throw fail('url_refused', `Expected an ${protocols.join(' or ')} URL but received ${describeValue(target.protocol)}`);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  const family = isIP(host);
  if (family === 0 && !options.allowPrivate && isLocalHostname(host)) throw fail('url_refused', `The host ${host} is not a public host name`);
  let addresses: readonly ResolvedAddress[];
  try {
    addresses = family === 0 ? await untilAborted(lookup(host), signal) : [{ address: host, family: family as 4 | 6 }];
  } catch (error) {
    if (signal.aborted) throw error;
    throw fail('url_fetch_failed', `The host ${host} could not be resolved`, error);
  }
  if (addresses.length === 0) throw fail('url_fetch_failed', `The host ${host} has no address`);
  if (options.allowPrivate) return addresses[0]!;
  // Every address, not just the first: the connection must not depend on which one a retry picks.
  for (const { address, family: f } of addresses) {
    const key = f === 6 ? `[${address}]:${port}` : `${address}:${port}`;
    if (!isPublicAddress(address) && !allowed.has(key)) throw fail('url_refused', `The host ${host} resolves to ${address}, which is not a public address`);
  }
  return addresses[0]!;
}

function parseUrl(url: string, fail: (code: ErrorCode, message: string) => AtelierError): URL {
  try {
    return new URL(url);
  } catch {
    throw fail('url_refused', `Expected an absolute http(s) URL but received ${describeValue(url)}`);
  }
}

/** One request whose socket connects to `to`, whatever DNS says now. No agent: no pooled sockets. */
function send(url: URL, to: ResolvedAddress, headers: Readonly<Record<string, string>>, signal: AbortSignal, method = 'GET', body?: string | Buffer): Promise<http.IncomingMessage> {
  const pinned = ((_host: string, opts: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (opts.all) callback(null, [{ address: to.address, family: to.family }]);
    else callback(null, to.address, to.family);
  }) as unknown as LookupFunction;
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      // hostname stays the name, so TLS verifies the certificate against it (and sends SNI).
      { hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || undefined, path: `${url.pathname}${url.search}`, method, headers, lookup: pinned, agent: false, signal },
      resolve,
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function systemLookup(hostname: string): Promise<readonly ResolvedAddress[]> {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
}

/** dns.lookup cannot be canceled; stop waiting for it when the signal aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
