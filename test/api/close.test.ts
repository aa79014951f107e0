import { mkdir, open } from 'node:fs/promises';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createUrlSigner } from '../../src/storage/url-signer.js';
import { apiClient } from '../helpers/api.js';
import { startServerOnDir, type TestServer } from '../helpers/test-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const SIGNING_SECRET = 'close-test-signing-secret-0123456789abcdef';

/**
 * How long close() may take before the test calls it hung. Not a performance bound: without
 * the fix close() never returns (it waits for clients that never finish), with it close()
 * returns in milliseconds; the margin only keeps a loaded machine from mattering.
 */
const HUNG_AFTER_MS = 15_000;

/** Resolves with 'closed', or with 'hung' if close() has not returned after HUNG_AFTER_MS. */
async function closeOrHang(t: TestServer): Promise<'closed' | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), HUNG_AFTER_MS)));
  try {
    return await Promise.race([t.server.close().then(() => 'closed' as const), hung]);
  } finally {
    clearTimeout(timer);
  }
}

/** A GET on a raw socket that resolves on the response headers; the body is left to the test. */
function get(url: string, headers: Record<string, string> = {}, agent?: http.Agent): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => http.get(url, { headers, ...(agent && { agent }) }, resolve).on('error', reject));
}

/** Resolves with the first body chunk, then stops reading: the client stalls from here on. */
function firstChunk(response: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    response.once('data', (chunk: Buffer) => {
      response.pause();
      resolve(chunk);
    });
    response.once('error', reject);
  });
}

/** Resolves when the server ends the response or drops the connection. */
function ended(response: http.IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    response.once('end', resolve);
    response.once('close', resolve);
    response.once('error', () => resolve());
  });
}

describe('server close()', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function start(env: Record<string, string> = {}): Promise<TestServer> {
    const tmp = await makeTempDir('atelier-close-');
    cleanups.push(tmp.remove);
    // RUNNER_CONCURRENCY 0: submitted runs stay queued, so their streams never end on their own.
    return startServerOnDir(tmp.dir, { RUNNER_CONCURRENCY: '0', ATELIER_SIGNING_SECRET: SIGNING_SECRET, ...env });
  }

  it('returns while a client follows the event stream of a run that never ends, and ends that stream', async () => {
    const t = await start();
    const api = apiClient(t, t.adminToken);
    const run = await api.submit({ prompt: 'a queued pond', width: 64, height: 64, steps: 2, seed: 1 });
    const stream = await get(`${t.url}/api/status/stream/${run.runId}`, { authorization: `Bearer ${t.adminToken}`, accept: 'text/event-stream' });
    cleanups.push(async () => void stream.destroy());
    expect(stream.statusCode).toBe(200);
    stream.setEncoding('utf8');
    let received = '';
    stream.on('data', (chunk: string) => (received += chunk));
    // The stream is open on the server once the replayed 'queued' event has arrived.
    await new Promise<void>((resolve) => {
      const check = () => received.includes('event: queued') && (stream.off('data', check), resolve());
      stream.on('data', check);
      check();
    });
    const streamEnded = ended(stream);

    expect(await closeOrHang(t)).toBe('closed');
    await streamEnded;
    // Ended without a terminal event: a client reconnects (Last-Event-ID) and carries on.
    expect(received).not.toMatch(/event: (succeeded|failed|canceled)/);
  });

  it('returns while a client has read only part of a media download, and cuts that download', async () => {
    const t = await start();
    // Far more than the socket buffers hold, so the server cannot finish sending it.
    const size = 64 * 1024 * 1024;
    const key = 'user-library/u1/j1/0.mp4';
    const file = join(t.dataDir, 'media', key);
    await mkdir(dirname(file), { recursive: true });
    const handle = await open(file, 'w');
    await handle.truncate(size);
    await handle.close();
    const signed = createUrlSigner(SIGNING_SECRET).sign(key, new Date(Date.now() + 3_600_000));
    const response = await get(`${t.url}/media/${key}?expires=${signed.expires}&signature=${signed.signature}`);
    cleanups.push(async () => void response.destroy());
    expect(response.statusCode).toBe(200);
    expect(Number(response.headers['content-length'])).toBe(size);
    let received = (await firstChunk(response)).length;

    expect(await closeOrHang(t)).toBe('closed');
    // Reading again, the client gets what was already on its way, then the cut.
    response.on('data', (chunk: Buffer) => (received += chunk.length));
    const cut = ended(response);
    response.resume();
    await cut;
    expect(response.complete).toBe(false);
    expect(received).toBeLessThan(size);
  });

  it('returns at once with only idle keep-alive connections open', async () => {
    const t = await start();
    const agent = new http.Agent({ keepAlive: true });
    cleanups.push(async () => agent.destroy());
    const response = await get(`${t.url}/healthz`, {}, agent);
    response.resume();
    await ended(response);
    expect(await closeOrHang(t)).toBe('closed');
  });
});
