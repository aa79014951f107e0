import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { readServerSentEvents } from '../../../src/cli/sse-client.js';
import { CORS_ALLOWED_HEADERS } from '../../../src/api/plugins/cors.js';
import { apiClient, type ApiClient, type ApiResponse } from '../../helpers/api.js';
import { startInjectServer, startTestServer, type InjectServer, type TestServer } from '../../helpers/test-server.js';

const APP = 'https://app.example';
const DEV = 'http://localhost:5173';
const OTHER = 'https://evil.example';

/** Every Access-Control-* header of a response, by lower-case name. */
function corsHeaders(res: { headers: Headers }): Record<string, string> {
  return Object.fromEntries([...res.headers].filter(([name]) => name.startsWith('access-control-')));
}

const listOf = (value: string | null) => (value ?? '').split(',').map((item) => item.trim().toLowerCase());

function preflight(api: ApiClient, path: string, origin: string, method = 'POST', headers = 'authorization, content-type'): Promise<ApiResponse> {
  return api.request('OPTIONS', path, undefined, { origin, 'access-control-request-method': method, 'access-control-request-headers': headers });
}

describe('CORS with CORS_ORIGINS listing two origins', () => {
  let t: InjectServer;
  let api: ApiClient;
  let anonymous: ApiClient;

  beforeAll(async () => {
    t = await startInjectServer({ CORS_ORIGINS: ` ${APP} ,${DEV}`, RUNNER_CONCURRENCY: '0' });
    api = apiClient(t, (await t.addUser('browser-user')).token);
    anonymous = apiClient(t, null);
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers a preflight before authentication: methods, headers, max-age, credentials', async () => {
    const res = await preflight(anonymous, '/api/generate/text-to-image', APP, 'POST', 'authorization, content-type, last-event-id');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(listOf(res.headers.get('access-control-allow-methods'))).toEqual(expect.arrayContaining(['get', 'post', 'put', 'delete']));
    expect(listOf(res.headers.get('access-control-allow-headers'))).toEqual(expect.arrayContaining(['authorization', 'content-type', 'last-event-id', 'idempotency-key', 'prefer']));
    expect(res.headers.get('access-control-max-age')).toBe('600');
    expect(listOf(res.headers.get('vary'))).toContain('origin');
    // The second origin of the list (and the list's spaces trimmed).
    expect((await preflight(anonymous, '/api/status/stream/x', DEV, 'GET', 'authorization, last-event-id')).headers.get('access-control-allow-origin')).toBe(DEV);
  });

  it('lets a page read what it needs: the origin on answers, Location and Retry-After exposed', async () => {
    const res = await api.post('/api/generate/text-to-image', { prompt: 'a kite', width: 64, height: 64, steps: 1 }, { origin: APP });
    expect(res.status).toBe(202);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('location')).toMatch(/^\/api\/status\//);
    expect(listOf(res.headers.get('access-control-expose-headers'))).toEqual(expect.arrayContaining(['location', 'retry-after', 'preference-applied', 'idempotent-replayed']));
  });

  it('puts the CORS headers on errors too (401, 404, 422), so a page can read why', async () => {
    const unauthorized = await anonymous.get('/api/models', { origin: APP });
    const missing = await api.get('/api/no-such-route', { origin: APP });
    const invalid = await api.post('/api/generate/text-to-image', { prompt: 'x', steps: 'many' }, { origin: APP });
    const openai = await api.get('/v1/no-such-route', { origin: APP });
    for (const [res, status] of [[unauthorized, 401], [missing, 404], [invalid, 422], [openai, 404]] as const) {
      expect(res.status).toBe(status);
      expect(res.headers.get('access-control-allow-origin')).toBe(APP);
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    }
  });

  it('sends no CORS header at all to an origin not listed, and refuses its preflight', async () => {
    const res = await api.get('/api/models', { origin: OTHER });
    expect(res.status).toBe(200);
    expect(corsHeaders(res)).toEqual({});
    // A listed origin with a different scheme or port is another origin.
    for (const origin of [OTHER, 'http://app.example', 'http://localhost:5174', 'null']) {
      const pre = await preflight(anonymous, '/api/generate/text-to-image', origin);
      expect(pre.status).toBe(404);
      expect(corsHeaders(pre)).toEqual({});
    }
  });

  it('sends no CORS header to a request without Origin (same origin, curl, servers)', async () => {
    expect(corsHeaders(await api.get('/api/models'))).toEqual({});
  });

  it("allows every header the official openai client sends, so it can run in a browser", async () => {
    // The headers of a real request by the client, captured on their way out.
    let sent: Headers | undefined;
    const client = new OpenAI({
      apiKey: 'sk-test',
      baseURL: 'http://atelier.inject/v1',
      maxRetries: 0,
      dangerouslyAllowBrowser: true,
      fetch: async (_url, init) => {
        sent = new Headers(init?.headers);
        return new Response('{"object":"list","data":[]}', { headers: { 'content-type': 'application/json' } });
      },
    });
    await client.models.list();
    const names = [...sent!.keys()].filter((name) => !['accept', 'user-agent', 'content-length'].includes(name));
    expect(names).toContain('authorization');
    const allowed = CORS_ALLOWED_HEADERS.map((name) => name.toLowerCase());
    expect(names.filter((name) => !allowed.includes(name))).toEqual([]);
    const res = await preflight(anonymous, '/v1/models', APP, 'GET', names.join(', '));
    expect(res.status).toBe(204);
    expect(listOf(res.headers.get('access-control-allow-headers'))).toEqual(expect.arrayContaining(names));
  });
});

describe('CORS configuration', () => {
  it('sends no CORS headers by default, to any origin, and answers no preflight', async () => {
    const t = await startInjectServer({ RUNNER_CONCURRENCY: '0' });
    try {
      const api = apiClient(t, t.adminToken);
      expect(corsHeaders(await api.get('/api/models', { origin: APP }))).toEqual({});
      const pre = await preflight(apiClient(t, null), '/api/models', APP, 'GET');
      expect(pre.status).toBe(404);
      expect(corsHeaders(pre)).toEqual({});
    } finally {
      await t.close();
    }
  });

  it("'*' allows any origin, without credentials", async () => {
    const t = await startInjectServer({ CORS_ORIGINS: '*', RUNNER_CONCURRENCY: '0' });
    try {
      const api = apiClient(t, t.adminToken);
      const res = await api.get('/api/models', { origin: OTHER });
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      const pre = await preflight(apiClient(t, null), '/api/generate/text-to-image', OTHER);
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe('*');
      expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
    } finally {
      await t.close();
    }
  });
});

describe('CORS on the event stream (real socket)', () => {
  let t: TestServer;
  let token: string;

  beforeAll(async () => {
    t = await startTestServer({ CORS_ORIGINS: APP });
    token = (await t.addUser('stream-user')).token;
  });
  afterAll(async () => {
    await t.close();
  });

  it('carries the CORS headers on the SSE response, which streams to the end', async () => {
    const run = await apiClient(t, token).submit({ prompt: 'a lantern', width: 64, height: 64, steps: 3 });
    const res = await fetch(`${t.url}/api/status/stream/${run.runId}`, {
      headers: { origin: APP, authorization: `Bearer ${token}`, accept: 'text/event-stream', 'last-event-id': '0' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(listOf(res.headers.get('vary'))).toContain('origin');
    const types: string[] = [];
    for await (const event of readServerSentEvents(res.body!)) types.push(event.event);
    expect(types[0]).toBe('queued');
    expect(types.at(-1)).toBe('succeeded');
  });

  it('sends no CORS header on the stream to an origin not listed', async () => {
    const run = await apiClient(t, token).submit({ prompt: 'a lantern', width: 64, height: 64, steps: 1 });
    const res = await fetch(`${t.url}/api/status/stream/${run.runId}`, { headers: { origin: OTHER, authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(corsHeaders(res)).toEqual({});
    await res.body!.cancel();
  });
});
