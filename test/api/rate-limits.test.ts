import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient, type ApiResponse } from '../helpers/api.js';
import { startInjectServerOnDir, writeConfigFile } from '../helpers/server-extras.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

const JOB = { prompt: 'a rate-limited teapot', width: 64, height: 64, steps: 1 } as const;

function retryAfter(res: ApiResponse): number {
  const header = res.headers.get('retry-after');
  expect(header, 'Retry-After header').toMatch(/^\d+$/);
  return Number(header);
}

describe('rate limits: per hour (RATE_LIMIT_PER_HOUR=3, RATE_LIMIT_CONCURRENT=0)', () => {
  const env = { RATE_LIMIT_PER_HOUR: '3', RATE_LIMIT_CONCURRENT: '0' };
  let dir: { dir: string; remove: () => Promise<void> };
  let t: InjectServer;
  let limitedToken: string;
  let limited: ApiClient;
  let firstSubmitAt: number;

  beforeAll(async () => {
    // A data directory this file owns, so the server can be restarted on it.
    dir = await makeTempDir('atelier-rate-limits-');
    const configPath = await writeConfigFile(dir.dir, { rateLimits: { perUser: { generous: { perHour: 0 } } } });
    t = await startInjectServerOnDir(dir.dir, { ...env, ATELIER_CONFIG: configPath });
    limitedToken = (await t.addUser('limited')).token;
    limited = apiClient(t, limitedToken);
  });
  afterAll(async () => {
    await t?.close();
    await dir?.remove();
  });

  it('accepts 3 jobs, then refuses the 4th with 429 rate_limited and a Retry-After', async () => {
    firstSubmitAt = Date.now();
    const accepted = [];
    for (let i = 0; i < 3; i++) accepted.push(await limited.submit({ ...JOB, seed: i }, { 'idempotency-key': `limited-${i}` }));
    expect(accepted).toHaveLength(3);

    const res = await limited.post('/api/generate/text-to-image', { ...JOB, seed: 99 });
    expect(res.status, res.text).toBe(429);
    expect(res.body).toMatchObject({ code: 'rate_limited', limit: 3, window: 'hour' });
    expect(res.body.message).toMatch(/3 jobs per hour/);
    const seconds = retryAfter(res);
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThanOrEqual(3600);
    // Exact: the oldest job in the window leaves it an hour after it was submitted.
    const elapsed = (Date.now() - firstSubmitAt) / 1000;
    expect(seconds).toBeGreaterThanOrEqual(Math.floor(3600 - elapsed - 2));
    expect(res.body.retryAfterSeconds).toBe(seconds);
    for (const run of accepted) expect((await limited.waitFor(run.runId)).status).toBe('succeeded');
  });

  it('records nothing for a refused request, on every generation route', async () => {
    const history = await limited.get('/api/images/history/?perPage=100');
    expect(history.body.total).toBe(3);
    const i2i = await limited.post('/api/generate/image-to-image', { prompt: 'x', reference_image: { upload_id: 'does-not-matter' } });
    expect(i2i.status).toBe(429);
    const t2v = await limited.post('/api/generate/text-to-video', { prompt: 'x', num_frames: 2, width: 64, height: 64, steps: 1 });
    expect(t2v.status).toBe(429);
    expect((await limited.get('/api/images/history/?perPage=100')).body.total).toBe(3);
  });

  it('still answers an idempotent replay of an accepted request (replays are not new jobs)', async () => {
    const replay = await limited.post('/api/generate/text-to-image', { ...JOB, seed: 0 }, { 'idempotency-key': 'limited-0' });
    expect(replay.status, replay.text).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
  });

  it('answers the OpenAI route with a 429 in the OpenAI error shape and Retry-After', async () => {
    const res = await limited.post('/v1/images/generations', { prompt: 'a teapot', size: '64x64', steps: 1 });
    expect(res.status, res.text).toBe(429);
    expect(res.body).toEqual({ error: { message: expect.any(String), type: 'rate_limit_error', param: null, code: 'rate_limited' } });
    const seconds = retryAfter(res);
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThanOrEqual(3600);
  });

  it('exempts admins by default', async () => {
    const admin = apiClient(t, t.adminToken);
    for (let i = 0; i < 5; i++) await admin.submit({ ...JOB, seed: 100 + i });
  });

  it('limits each user separately and honours per-user overrides from the config file', async () => {
    const other = apiClient(t, (await t.addUser('other')).token);
    for (let i = 0; i < 3; i++) await other.submit({ ...JOB, seed: 200 + i });
    expect((await other.post('/api/generate/text-to-image', JOB)).status).toBe(429);
    const generous = apiClient(t, (await t.addUser('generous')).token);
    for (let i = 0; i < 5; i++) await generous.submit({ ...JOB, seed: 300 + i });
  });

  it('holds across a restart on the same data directory (counts live in the database)', async () => {
    await t.close();
    t = await startInjectServerOnDir(dir.dir, { ...env, ATELIER_CONFIG: `${dir.dir}/atelier.config.json` });
    const again = apiClient(t, limitedToken);
    const res = await again.post('/api/generate/text-to-image', { ...JOB, seed: 7 });
    expect(res.status, res.text).toBe(429);
    expect(res.body).toMatchObject({ code: 'rate_limited', window: 'hour', limit: 3 });
    const seconds = retryAfter(res);
    expect(seconds).toBeLessThanOrEqual(3600);
    expect(seconds).toBeGreaterThanOrEqual(Math.floor(3600 - (Date.now() - firstSubmitAt) / 1000 - 2));
    // Admins stay exempt after the restart as well.
    await apiClient(t, t.adminToken).submit({ ...JOB, seed: 8 });
  });
});

describe('rate limits: concurrency and non-exempt admins (RATE_LIMIT_CONCURRENT=2, RUNNER_CONCURRENCY=0)', () => {
  let t: InjectServer;
  beforeAll(async () => {
    // Nothing runs, so every accepted job stays queued and counts as active.
    t = await startInjectServer({ RATE_LIMIT_PER_HOUR: '3', RATE_LIMIT_CONCURRENT: '2', RUNNER_CONCURRENCY: '0', RATE_LIMIT_EXEMPT_ADMINS: 'false' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("refuses a third queued job with window 'concurrent', then accepts once one ends", async () => {
    const user = apiClient(t, (await t.addUser('busy')).token);
    const a = await user.submit({ ...JOB, seed: 1 });
    await user.submit({ ...JOB, seed: 2 });
    expect(a.status).toBe('queued');

    const res = await user.post('/api/generate/text-to-image', { ...JOB, seed: 3 });
    expect(res.status, res.text).toBe(429);
    expect(res.body).toMatchObject({ code: 'rate_limited', window: 'concurrent', limit: 2, retryAfterSeconds: 5 });
    expect(retryAfter(res)).toBe(5);

    expect((await user.post(`/api/runs/${a.runId}/cancel`)).status).toBe(200);
    const third = await user.submit({ ...JOB, seed: 3 });
    expect(third.status).toBe('queued');

    // Three submitted this hour: the hourly limit is the one that answers now.
    expect((await user.post(`/api/runs/${third.runId}/cancel`)).status).toBe(200);
    const fourth = await user.post('/api/generate/text-to-image', { ...JOB, seed: 4 });
    expect(fourth.status).toBe(429);
    expect(fourth.body).toMatchObject({ window: 'hour', limit: 3 });
    expect(retryAfter(fourth)).toBeGreaterThan(3500);
  });

  it('limits the admin too when RATE_LIMIT_EXEMPT_ADMINS=false', async () => {
    const admin = apiClient(t, t.adminToken);
    const a = await admin.submit({ ...JOB, seed: 11 });
    const b = await admin.submit({ ...JOB, seed: 12 });
    const concurrent = await admin.post('/api/generate/text-to-image', { ...JOB, seed: 13 });
    expect(concurrent.status).toBe(429);
    expect(concurrent.body).toMatchObject({ code: 'rate_limited', window: 'concurrent' });

    await admin.post(`/api/runs/${a.runId}/cancel`);
    await admin.post(`/api/runs/${b.runId}/cancel`);
    await admin.submit({ ...JOB, seed: 13 });
    const hourly = await admin.post('/api/generate/text-to-image', { ...JOB, seed: 14 });
    expect(hourly.status).toBe(429);
    expect(hourly.body).toMatchObject({ code: 'rate_limited', window: 'hour', limit: 3 });
  });
});
