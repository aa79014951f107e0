import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followRun } from '../../../web/src/features/live/job-stream';
import type { SseEvent } from '../../../web/src/features/live/sse';
import { client, startRealServer, type RealServer } from '../generate/real-server';

/** fetch against `base`, the way the browser resolves the app's relative URLs, with a token. */
function fetchAt(base: string, token?: string): typeof fetch {
  return (input, init) => {
    const headers = { ...(init?.headers as Record<string, string>), ...(token ? { authorization: `Bearer ${token}` } : {}) };
    return fetch(`${base}${String(input)}`, { ...init, headers });
  };
}

describe('following a run over SSE', () => {
  let t: RealServer;
  beforeAll(async () => {
    t = await startRealServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('streams a real run to success, with step counts', async () => {
    const submitted = await client(t).post('/api/generate/text-to-image', { prompt: 'a small boat', steps: 6, width: 256, height: 256 });
    expect(submitted.status).toBe(202);
    const events: SseEvent[] = [];
    const terminal = await followRun(submitted.body.runId, { signal: new AbortController().signal, onEvent: (e) => events.push(e), fetchImpl: fetchAt(t.url, t.adminToken) });
    expect(terminal).toBe('succeeded');
    const types = events.map((e) => e.event);
    expect(types[0]).toBe('queued');
    expect(types.at(-1)).toBe('succeeded');
    const progress = events.filter((e) => e.event === 'progress').map((e) => JSON.parse(e.data) as { step: number; totalSteps: number });
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({ step: 6, totalSteps: 6 });
  });

  it('a refused stream (unknown run) fails with the server’s message, without retrying', async () => {
    await expect(followRun('no-such-run', { signal: new AbortController().signal, onEvent: () => undefined, fetchImpl: fetchAt(t.url, t.adminToken) })).rejects.toMatchObject({
      name: 'ApiError',
      status: 404,
    });
  });
});

describe('reconnecting', () => {
  let server: Server;
  let base: string;
  const requests: IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    // First connection: two events, then the connection drops. Second: the rest.
    server = createServer((req, res) => {
      requests.push(req.headers);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (requests.length === 1) {
        res.write('retry: 10\n\nid: 1\nevent: queued\ndata: {}\n\nid: 2\nevent: progress\ndata: {"step":1,"totalSteps":2}\n\n');
        setTimeout(() => res.socket?.destroy(), 50);
      } else {
        res.end('id: 3\nevent: progress\ndata: {"step":2,"totalSteps":2}\n\nid: 4\nevent: succeeded\ndata: {}\n\n');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('resumes with Last-Event-ID after a dropped connection and gets every event once', async () => {
    const events: SseEvent[] = [];
    let reconnects = 0;
    const terminal = await followRun('r1', { signal: new AbortController().signal, onEvent: (e) => events.push(e), onReconnect: () => reconnects++, fetchImpl: fetchAt(base) });
    expect(terminal).toBe('succeeded');
    expect(reconnects).toBe(1);
    expect(requests[0]!['last-event-id']).toBeUndefined();
    expect(requests[1]!['last-event-id']).toBe('2');
    expect(events.map((e) => e.id)).toEqual(['1', '2', '3', '4']);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const pending = followRun('r2', { signal: controller.signal, onEvent: () => controller.abort(), fetchImpl: fetchAt(base) });
    await expect(pending).resolves.toBeUndefined();
  });
});
