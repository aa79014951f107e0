import type http from 'node:http';
import { AtelierError } from '../errors/atelier-error.js';
import { safeRequest, type ResolvedAddress } from '../net/safe-request.js';
import { webhookProtocols } from './webhook-target.js';

export interface WebhookPost {
  readonly url: string;
  readonly body: string;
  /** The signature headers (and any other); content type and length are added. */
  readonly headers: Readonly<Record<string, string>>;
  /** Aborting stops the attempt (shutdown); the abort reason is thrown. */
  readonly signal?: AbortSignal;
}

export interface WebhookPostOptions {
  /** One budget for the whole attempt: DNS, connection, the answer's head and (a bounded part of) its body. */
  readonly timeoutMs: number;
  readonly allowPrivate: boolean;
  readonly lookup?: (hostname: string) => Promise<readonly ResolvedAddress[]>;
}

/** What is read of an answer's body before the socket is closed: receivers' bodies are not used. */
const ANSWER_BYTES = 64 * 1024;

/**
 * POSTs one signed webhook attempt through the SSRF guard (src/net/safe-request.ts): the host
 * must resolve to public addresses (unless `allowPrivate`), the socket is pinned to the
 * checked address, and a redirect is not followed — a 3xx is the receiver's answer, and not a
 * 2xx. Resolves with the HTTP status; rejects when there is none (`url_refused`,
 * `url_fetch_failed`, `url_timeout`).
 *
 * @example const status = await postWebhook({ url, body, headers: signWebhook(secret, id, ts, body) }, { timeoutMs: 10_000, allowPrivate: false })
 */
export async function postWebhook(post: WebhookPost, options: WebhookPostOptions): Promise<number> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new AtelierError('url_timeout', `The webhook did not answer within ${options.timeoutMs / 1000} s`, { field: 'webhook' })), options.timeoutMs);
  const stop = () => deadline.abort(post.signal?.reason);
  post.signal?.addEventListener('abort', stop, { once: true });
  if (post.signal?.aborted) stop();
  try {
    const { response } = await safeRequest(post.url, {
      method: 'POST',
      body: post.body,
      headers: { ...post.headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(post.body)), 'user-agent': 'Atelier-Webhooks/1' },
      allowedProtocols: webhookProtocols(options),
      allowPrivate: options.allowPrivate,
      followRedirects: false,
      field: 'webhook',
      signal: deadline.signal,
      ...(options.lookup ? { lookup: options.lookup } : {}),
    });
    await readSome(response, ANSWER_BYTES);
    return response.statusCode ?? 0;
  } catch (error) {
    if (deadline.signal.aborted) throw deadline.signal.reason;
    throw error;
  } finally {
    clearTimeout(timer);
    post.signal?.removeEventListener('abort', stop);
  }
}

/** Reads up to `limit` bytes of the answer, then lets the socket go. */
async function readSome(response: http.IncomingMessage, limit: number): Promise<void> {
  let read = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    read += chunk.length;
    if (read >= limit) break;
  }
  response.destroy();
}
