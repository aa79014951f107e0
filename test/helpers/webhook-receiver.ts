import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver got, as it arrived. */
export interface ReceivedWebhook {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The raw body, exactly as sent (what the signature covers). */
  readonly body: string;
  readonly at: number;
}

/** What the receiver does with the next request: answer with a status, hang (never answer), or answer with a redirect. */
export type Reply = number | 'hang' | { readonly redirect: string };

/**
 * A local HTTP server that records every webhook request and answers as the test says:
 * `replies` are used in order, then `then` (default 200). `waitFor(n)` resolves once it has
 * `n` requests. `down()` closes its port (connections refused) and `up()` reopens the same port.
 */
export async function startWebhookReceiver(options: { replies?: Reply[]; then?: Reply; port?: number } = {}) {
  const received: ReceivedWebhook[] = [];
  const replies = [...(options.replies ?? [])];
  let then: Reply = options.then ?? 200;
  const hanging = new Set<ServerResponse>();
  const waiters: { n: number; resolve: () => void }[] = [];

  const handler = (request: import('node:http').IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      for (const waiter of waiters.filter((w) => received.length >= w.n)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      const reply = replies.length > 0 ? replies.shift()! : then;
      if (reply === 'hang') {
        hanging.add(response);
        return;
      }
      if (typeof reply === 'object') response.writeHead(302, { location: reply.redirect }).end();
      else response.writeHead(reply, { 'content-type': 'text/plain' }).end(reply >= 200 && reply < 300 ? 'ok' : 'no');
    });
  };

  let server: Server = await listen(createServer(handler), options.port ?? 0);
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    received,
    /** Replies to use for the next requests, in order. */
    reply(...next: Reply[]) {
      replies.push(...next);
    },
    /** What to answer once the queued replies are used up. */
    setDefault(reply: Reply) {
      then = reply;
    },
    /** Resolves once `n` requests arrived (or rejects after `timeoutMs`). */
    waitFor(n: number, timeoutMs = 20_000): Promise<ReceivedWebhook[]> {
      if (received.length >= n) return Promise.resolve(received.slice(0, n));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the receiver got ${received.length} of ${n} webhook requests within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ n, resolve: () => (clearTimeout(timer), resolve(received.slice(0, n))) });
      });
    },
    /** Stops listening and drops every connection: requests are refused until `up()`. */
    async down() {
      for (const response of hanging) response.destroy();
      hanging.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async up() {
      server = await listen(createServer(handler), port);
    },
    async close() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;

function listen(server: Server, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/**
 * Verifies a delivery the way a receiver would, written here from the Standard Webhooks
 * specification rather than with Atelier's signer: HMAC-SHA256 keyed with the base64 part of
 * `whsec_…`, over `{webhook-id}.{webhook-timestamp}.{raw body}`, compared with each
 * space-separated `v1,<base64>` of `webhook-signature`.
 */
export function verifyStandardWebhook(secret: string, request: Pick<ReceivedWebhook, 'headers' | 'body'>): boolean {
  const id = request.headers['webhook-id'];
  const timestamp = request.headers['webhook-timestamp'];
  const signatures = request.headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') return false;
  if (!secret.startsWith('whsec_')) return false;
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${request.body}`).digest();
  return signatures.split(' ').some((entry) => {
    const [version, signature] = entry.split(',', 2);
    if (version !== 'v1' || signature === undefined) return false;
    const given = Buffer.from(signature, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
