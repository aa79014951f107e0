/**
 * A minimal HTTP client over node:http(s) for adapters whose upstream answers only when the
 * work is done (A1111's txt2img, OpenAI's images API). Global fetch is not used for these:
 * undici gives up after 300 s without response headers, which a large batch easily exceeds,
 * and it cannot time the connection separately from the (long) wait for an answer.
 * Used by the a1111 and openai adapters alike; it names no upstream.
 */
import http from 'node:http';
import https from 'node:https';
import { RetryableError } from '../../errors/signals.js';

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer | string;
  /** Aborting destroys the socket at once; the promise rejects with {@link HttpAbortedError}. */
  readonly signal?: AbortSignal;
  /** Time to open the TCP connection (and finish TLS). */
  readonly connectTimeoutMs: number;
  /** Time from the start until the whole response body has arrived. */
  readonly timeoutMs: number;
  /** Largest response body accepted; default 512 MiB (eight 2048² PNGs in base64 fit). */
  readonly maxBytes?: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** The connection did not open, or the answer did not arrive, in time. */
export class HttpTimeoutError extends Error {
  constructor(readonly phase: 'connect' | 'response', readonly ms: number) {
    super(phase === 'connect' ? `no connection within ${ms} ms` : `no complete answer within ${ms} ms`);
    this.name = 'HttpTimeoutError';
  }
}

/** The caller's signal aborted the request. */
export class HttpAbortedError extends Error {
  constructor() {
    super('the request was aborted');
    this.name = 'HttpAbortedError';
  }
}

const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;

/**
 * Sends one request and buffers the whole answer, whatever its status. Rejects with
 * {@link HttpTimeoutError}, {@link HttpAbortedError}, or the socket's own error
 * (ECONNREFUSED, ECONNRESET…). Every path settles: a dropped socket, a stalled body and an
 * abort all end in a rejection, never a hang.
 *
 * @example const res = await httpRequest({ method: 'GET', url: new URL('http://127.0.0.1:7860/sdapi/v1/progress'), connectTimeoutMs: 2000, timeoutMs: 5000 })
 */
export function httpRequest(request: HttpRequest): Promise<HttpResponse> {
  const { url, signal } = request;
  if (signal?.aborted) return Promise.reject(new HttpAbortedError());
  const client = url.protocol === 'https:' ? https : http;
  const maxBytes = request.maxBytes ?? DEFAULT_MAX_BYTES;
  return new Promise<HttpResponse>((resolve, reject) => {
    const timers: NodeJS.Timeout[] = [];
    let settled = false;
    const finish = (error: Error | undefined, response?: HttpResponse) => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      signal?.removeEventListener('abort', onAbort);
      if (error) {
        req.destroy();
        reject(error);
      } else resolve(response!);
    };
    const onAbort = () => finish(new HttpAbortedError());
    // A fresh connection per request (agent: false): a kept-alive socket the server has
    // already closed would turn a long generation into a spurious "socket hang up".
    const req = client.request(url, { method: request.method, headers: request.headers, agent: false });
    signal?.addEventListener('abort', onAbort, { once: true });
    timers.push(setTimeout(() => finish(new HttpTimeoutError('response', request.timeoutMs)), request.timeoutMs));
    req.on('socket', (socket) => {
      if (settled || !socket.connecting) return;
      const timer = setTimeout(() => finish(new HttpTimeoutError('connect', request.connectTimeoutMs)), request.connectTimeoutMs);
      timers.push(timer);
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(timer));
    });
    req.on('error', (error) => finish(error));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) finish(new Error(`the response is larger than ${maxBytes} bytes`));
        else chunks.push(chunk);
      });
      res.on('error', (error) => finish(error));
      res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      // 'close' without 'end': the server dropped the connection mid-body.
      res.on('close', () => finish(Object.assign(new Error('the connection closed before the response was complete'), { code: 'ECONNRESET' })));
    });
    req.end(request.body);
  });
}

/** Parses a JSON body, or returns undefined when it is not JSON. */
export function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The signal error for a request that got no answer: all transient, so retryable —
 * `backend_timeout` for a timeout, `backend_failed` for a refused or dropped connection.
 * Call it only after checking the caller's own signal (an abort is not a failure).
 *
 * @example throw transportError('AUTOMATIC1111 at http://gpu:7860', error)
 */
export function transportError(where: string, error: unknown): RetryableError {
  if (error instanceof HttpTimeoutError) {
    const what = error.phase === 'connect' ? `accept a connection within ${error.ms} ms` : `finish within ${error.ms} ms`;
    return new RetryableError(`${where} did not ${what}`, 'backend_timeout', { cause: error });
  }
  const message = error instanceof Error ? `${(error as NodeJS.ErrnoException).code ?? ''} ${error.message}`.trim() : String(error);
  return new RetryableError(`${where} could not be reached or dropped the connection: ${message}`, 'backend_failed', { cause: error });
}
