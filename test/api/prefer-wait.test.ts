import { request as httpRequest } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient, type ApiResponse } from '../helpers/api.js';
import { createHeldBackend, heldServerOptions, HELD_MODEL, type HeldBackend } from '../helpers/held-backend.js';
import { deleteRedisPrefix, REDIS_URL, uniqueRedisPrefix } from '../helpers/redis.js';
import { testSchema } from '../helpers/postgres.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startInjectServer, startTestServer, type InjectServer, type TestServer } from '../helpers/test-server.js';

const SMALL = { prompt: 'a small stone', width: 128, height: 128, steps: 2 };
const HELD = { prompt: 'a held lantern', model: HELD_MODEL, width: 64, height: 64, steps: 2 };
const T2I = '/api/generate/text-to-image';

/** A run view without its signed URLs (each response signs them anew). */
function withoutUrls(view: any): unknown {
  return JSON.parse(JSON.stringify(view, (key, value) => (/url$/i.test(key) || key === 'urlExpiresAt' ? undefined : value)));
}

describe('Prefer: wait on POST /api/generate/*', () => {
  let t: InjectServer;
  let held: HeldBackend;
  let api: ApiClient;

  beforeAll(async () => {
    held = createHeldBackend();
    t = await startInjectServer({}, heldServerOptions(held));
    api = apiClient(t, (await t.addUser('waiter')).token);
  });
  afterEach(() => {
    held.hold();
  });
  afterAll(async () => {
    held?.release();
    await t?.close();
  });

  it('answers 201 with the full run view and Preference-Applied: wait when the run ends in time', async () => {
    const res = await api.post(T2I, { ...SMALL, seed: 1 }, { prefer: 'wait' });
    expect(res.status, res.text).toBe(201);
    expect(res.headers.get('preference-applied')).toBe('wait');
    expect(res.headers.get('location')).toBe(`/api/status/${res.body.runId}`);
    expect(res.body.status).toBe('succeeded');
    expect(res.body.assets).toHaveLength(1);
    // The same body GET /api/status answers with (its links are signed per response).
    const status = await api.status(res.body.runId);
    expect(withoutUrls(res.body)).toEqual(withoutUrls(status.body));
    const file = await api.download(res.body.assets[0].url);
    expect(file.status).toBe(200);
  });

  it('answers the usual 202 with the current state when the run outlasts wait=1', async () => {
    const started = Date.now();
    const res = await api.post(T2I, { ...HELD, seed: 2 }, { prefer: 'wait=1' });
    const elapsed = Date.now() - started;
    expect(res.status, res.text).toBe(202);
    expect(res.headers.get('preference-applied')).toBeNull();
    expect(['queued', 'running']).toContain(res.body.status);
    expect(res.body.assets).toEqual([]);
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(5_000);
    held.release();
    expect((await api.waitFor(res.body.runId)).status).toBe('succeeded');
  });

  it('wakes on the terminal event, not at the deadline', async () => {
    const before = held.started;
    const pending = api.post(T2I, { ...HELD, seed: 3 }, { prefer: 'wait=30' });
    await held.waitForStarted(before + 1);
    const released = Date.now();
    held.release();
    const res = await pending;
    expect(res.status, res.text).toBe(201);
    expect(res.body.status).toBe('succeeded');
    expect(Date.now() - released).toBeLessThan(10_000);
  });

  it('a run canceled during the wait is terminal too: 201 with status canceled', async () => {
    const before = held.started;
    const pending = api.post(T2I, { ...HELD, seed: 4 }, { prefer: 'wait=30' });
    await held.waitForStarted(before + 1);
    const runs = await api.get('/api/runs?limit=1');
    const runId = runs.body.runs[0].runId as string;
    expect((await api.post(`/api/runs/${runId}/cancel`)).status).toBe(200);
    const res = await pending;
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ runId, status: 'canceled', error: { code: 'job_canceled' } });
  });

  it('a prompt-cache hit answers at once with 201', async () => {
    const body = { ...SMALL, prompt: 'a cached pebble', seed: 5, cache_mode: 'seed-aware' };
    const first = await api.post(T2I, body, { prefer: 'wait' });
    expect(first.status).toBe(201);
    // The cache entry is recorded right after the success; wait until a lookup sees it.
    const deadline = Date.now() + 10_000;
    while (!(await api.post('/api/cache/lookup', { kind: 'text-to-image', parameters: body })).body.hit) {
      if (Date.now() > deadline) throw new Error('the first run never reached the cache');
      await new Promise((r) => setTimeout(r, 20));
    }
    held.hold();
    const started = Date.now();
    const second = await api.post(T2I, body, { prefer: 'wait=60' });
    expect(second.status).toBe(201);
    expect(second.headers.get('preference-applied')).toBe('wait');
    expect(second.body).toMatchObject({ status: 'succeeded', cached: true, cachedFrom: first.body.runId });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('an Idempotency-Key replay of a finished run answers 201 at once', async () => {
    const headers = { prefer: 'wait', 'idempotency-key': 'prefer-wait-replay' };
    const first = await api.post(T2I, { ...SMALL, seed: 6 }, headers);
    expect(first.status).toBe(201);
    const again = await api.post(T2I, { ...SMALL, seed: 6 }, headers);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.runId).toBe(first.body.runId);
  });

  it('without Prefer, or with other preferences only, answers 202 at once', async () => {
    const before = held.started;
    const plain = await api.post(T2I, { ...HELD, seed: 7 });
    const other = await api.post(T2I, { ...HELD, seed: 8 }, { prefer: 'return=minimal, respond-async' });
    expect([plain.status, other.status]).toEqual([202, 202]);
    await held.waitForStarted(before + 1);
    held.release();
    await api.waitFor(plain.body.runId);
    await api.waitFor(other.body.runId);
  });

  it.each(['wait=0', 'wait=61', 'wait=abc', 'wait=1.5', 'wait=-3'])('refuses Prefer: %s with a 422 naming Prefer, recording nothing', async (prefer) => {
    const before = (await api.get('/api/runs?limit=100')).body.runs.length;
    const res = await api.post(T2I, { ...SMALL, seed: 9 }, { prefer });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'invalid_parameter', field: 'Prefer' });
    expect(res.body.message).toMatch(/^Expected integer 1–60 for Prefer wait but received /);
    expect((await api.get('/api/runs?limit=100')).body.runs.length).toBe(before);
  });
});

describe('Prefer: wait over a real socket', () => {
  let t: TestServer;
  let held: HeldBackend;
  let token: string;

  beforeAll(async () => {
    held = createHeldBackend();
    t = await startTestServer({}, heldServerOptions(held));
    token = (await t.addUser('leaver')).token;
  });
  afterAll(async () => {
    held?.release();
    await t?.close();
  });

  it('a client that disconnects while waiting does not cancel the run: it still succeeds, and its waiter is gone', async () => {
    const api = apiClient(t, token);
    const before = held.started;
    // Count the per-run subscriptions on the event bus (the runner's '*' one is older).
    const events = t.server.events;
    const subscribe = events.subscribe;
    let live = 0;
    events.subscribe = (jobId, listener) => {
      if (jobId === '*') return subscribe(jobId, listener);
      live++;
      const off = subscribe(jobId, listener);
      let done = false;
      return () => {
        if (!done) live--;
        done = true;
        off();
      };
    };
    const req = httpRequest(`${t.url}${T2I}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', prefer: 'wait=60' },
    });
    const outcome = new Promise<string>((resolve) => {
      req.on('response', (res) => resolve(`answered ${res.statusCode}`));
      req.on('error', (error) => resolve(`gone: ${error.message}`));
    });
    req.end(JSON.stringify({ ...HELD, seed: 11 }));
    await held.waitForStarted(before + 1);
    const runId = (await api.get('/api/runs?limit=1')).body.runs[0].runId as string;
    expect((await api.status(runId)).body.status).toBe('running');
    expect(live).toBe(1);
    req.destroy();
    expect(await outcome).toMatch(/^gone/);
    const deadline = Date.now() + 5_000;
    while (live > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    events.subscribe = subscribe;
    expect(live).toBe(0);
    expect((await api.status(runId)).body.status).toBe('running');
    held.release();
    const done = await api.waitFor(runId);
    expect(done.status).toBe('succeeded');
    expect(done.assets).toHaveLength(1);
  });

  it('closing the server answers a held request at once with 202 instead of waiting it out', async () => {
    const local = createHeldBackend();
    const server = await startTestServer({}, heldServerOptions(local));
    const pending = fetch(`${server.url}${T2I}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json', prefer: 'wait=60' },
      body: JSON.stringify({ ...HELD, seed: 12 }),
    });
    await local.waitForStarted(1);
    const started = Date.now();
    const closing = server.close();
    const res = await pending;
    expect(res.status).toBe(202);
    expect(((await res.json()) as { status: string }).status).toBe('running');
    local.release();
    await closing;
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe('Prefer: wait in scale-out (PostgreSQL + Redis): the run ends on another node', () => {
  const schema = testSchema();
  const prefix = uniqueRedisPrefix();
  let media: Awaited<ReturnType<typeof makeTempDir>>;
  let apiNode: InjectServer;
  let runnerNode: InjectServer;

  beforeAll(async () => {
    media = await makeTempDir('atelier-prefer-media-');
    const shared = {
      DATABASE_URL: schema.url,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      MEDIA_DIR: media.dir,
      ATELIER_ADMIN_TOKEN: 'atl_prefer_wait_cluster_token_0123456789abcdef',
      ATELIER_SIGNING_SECRET: 'prefer-wait-cluster-signing-secret-0123456789',
    };
    // The node that takes the request runs nothing; the other one runs every job.
    apiNode = await startInjectServer({ ...shared, RUNNER_CONCURRENCY: '0' });
    runnerNode = await startInjectServer({ ...shared, RUNNER_CONCURRENCY: '1' });
  });
  afterAll(async () => {
    await apiNode?.close();
    await runnerNode?.close();
    await schema.drop();
    await deleteRedisPrefix(prefix);
    await media?.remove();
  });

  it('the API node answers 201 when the runner node finishes the job', async () => {
    const api = apiClient(apiNode, apiNode.adminToken);
    const res: ApiResponse = await api.post(T2I, { ...SMALL, seed: 21 }, { prefer: 'wait=30' });
    expect(res.status, res.text).toBe(201);
    expect(res.headers.get('preference-applied')).toBe('wait');
    expect(res.body).toMatchObject({ status: 'succeeded' });
    expect(res.body.assets).toHaveLength(1);
  });
});
