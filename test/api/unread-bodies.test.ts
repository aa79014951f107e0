import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readResponse } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const FIFTY_MB = 50 * 1024 * 1024;

interface RawExchange {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: any;
  /** The request's own error (EPIPE, ECONNRESET), if any. */
  readonly requestError: NodeJS.ErrnoException | undefined;
  /** Whether the server said "100 Continue". */
  readonly continued: boolean;
  /** Whether the whole body was handed to the socket ('finish'). */
  readonly finished: boolean;
}

/**
 * One request over node:http, the body written in one go (as curl or `fetch` send it), read
 * until the request closes so an error after the response (EPIPE, ECONNRESET) is seen too.
 * With `expectContinue` the body waits for "100 Continue", as curl does for bodies over 1 MB.
 */
function exchange(url: string, headers: Record<string, string | number>, body: Buffer, options: { expectContinue?: boolean } = {}): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    let requestError: NodeJS.ErrnoException | undefined;
    let continued = false;
    let finished = false;
    let response: Omit<RawExchange, 'requestError' | 'continued' | 'finished'> | undefined;
    // A fresh connection each time, closed after the exchange: 'close' then ends it for sure.
    const req = httpRequest(url, { method: 'POST', agent: false, headers: { ...headers, 'content-length': body.length, ...(options.expectContinue ? { expect: '100-continue' } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (error: NodeJS.ErrnoException) => (requestError ??= error));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        response = { status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined };
        // Refused before "100 Continue": there is no body to send, the exchange is over.
        if (options.expectContinue && !continued) req.destroy();
      });
    });
    req.on('error', (error: NodeJS.ErrnoException) => (requestError ??= error));
    req.on('finish', () => (finished = true));
    req.on('close', () => {
      if (!response && !requestError) reject(new Error('closed without a response or an error'));
      resolve({ ...(response ?? { status: 0, headers: {}, body: undefined }), requestError, continued, finished });
    });
    if (options.expectContinue) {
      req.on('continue', () => {
        continued = true;
        req.end(body);
      });
      req.flushHeaders();
    } else {
      req.end(body);
    }
  });
}

// Issue #14 §7: the 413 used to come with the socket closed under the client's feet, so
// clients still sending saw EPIPE/ECONNRESET instead of the answer.
describe('answers that come before the body', () => {
  let t: TestServer;
  let token: string;
  const big = Buffer.alloc(FIFTY_MB, 0x20);

  beforeAll(async () => {
    t = await startTestServer({ RUNNER_CONCURRENCY: '0' });
    token = (await t.addUser('sender')).token;
  });
  afterAll(async () => {
    await t?.close();
  });

  const json = () => ({ 'content-type': 'application/json', authorization: `Bearer ${token}` });

  it('lets a node:http client send all of a 50 MB body and read the 413, with no EPIPE or reset', async () => {
    const res = await exchange(`${t.url}/api/generate/text-to-image`, json(), big);
    expect(res.requestError?.code, String(res.requestError)).toBeUndefined();
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 'body_too_large' });
    expect(res.finished).toBe(true);
  });

  it('lets fetch send a 50 MB body, read the 413 and send the next request on the same connection', async () => {
    let connections = 0;
    const count = () => connections++;
    t.server.app.server.on('connection', count);
    try {
      const res = await readResponse(await fetch(`${t.url}/api/generate/text-to-image`, { method: 'POST', headers: json(), body: big }));
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ code: 'body_too_large' });
      const next = await fetch(`${t.url}/api/generate/text-to-image`, { method: 'POST', headers: json(), body: JSON.stringify({ prompt: 'next', width: 64, height: 64, steps: 1 }) });
      expect(next.status).toBe(202);
      await next.arrayBuffer();
      // The body was read to its end, so the connection was kept rather than reset.
      expect(connections).toBe(1);
    } finally {
      t.server.app.server.off('connection', count);
    }
  });

  it('answers a 401 before reading an unauthenticated 50 MB upload, and the client reads it', async () => {
    const res = await exchange(`${t.url}/api/uploads`, { 'content-type': 'multipart/form-data; boundary=abc' }, big);
    expect(res.requestError?.code, String(res.requestError)).toBeUndefined();
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'unauthorized' });
    expect(res.finished).toBe(true);
  });

  it('keeps the connection usable after draining, for the next request', async () => {
    const agent = new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 1 });
    const once = (body: Buffer) =>
      new Promise<{ status: number; socket: unknown }>((resolve, reject) => {
        const req = httpRequest(`${t.url}/api/generate/text-to-image`, { method: 'POST', agent, headers: { ...json(), 'content-length': body.length } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, socket: req.socket }));
        });
        req.on('error', reject);
        req.end(body);
      });
    try {
      const first = await once(Buffer.alloc(4 * 1024 * 1024, 0x20));
      expect(first.status).toBe(413);
      const second = await once(Buffer.from('{"prompt":"after a drain","width":64,"height":64,"steps":1}'));
      expect(second.status).toBe(202);
      expect(second.socket).toBe(first.socket);
    } finally {
      agent.destroy();
    }
  });

  it('honours Expect: 100-continue: a body over the limit is refused before the client sends it', async () => {
    const res = await exchange(`${t.url}/api/generate/text-to-image`, json(), big, { expectContinue: true });
    expect(res.requestError?.code, String(res.requestError)).toBeUndefined();
    expect(res.continued).toBe(false);
    expect(res.finished).toBe(false);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 'body_too_large' });
    expect(res.headers.connection).toBe('close');
  });

  it('honours Expect: 100-continue: a body within the limit is asked for and accepted', async () => {
    const body = Buffer.from(JSON.stringify({ prompt: 'a patient client', width: 64, height: 64, steps: 1 }));
    const res = await exchange(`${t.url}/api/generate/text-to-image`, json(), body, { expectContinue: true });
    expect(res.requestError?.code, String(res.requestError)).toBeUndefined();
    expect(res.continued).toBe(true);
    expect(res.status).toBe(202);
  });

  it('honours Expect: 100-continue on uploads: an unauthenticated one is refused before the body', async () => {
    const res = await exchange(`${t.url}/api/uploads`, { 'content-type': 'multipart/form-data; boundary=abc' }, big, { expectContinue: true });
    expect(res.continued).toBe(false);
    expect(res.finished).toBe(false);
    expect(res.status).toBe(401);
  });
});
