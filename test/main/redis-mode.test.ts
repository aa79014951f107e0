import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtelierError } from '../../src/errors/atelier-error.js';
import { loadConfig } from '../../src/main/load-config.js';
import { apiClient, collectEvents, type ApiClient } from '../helpers/api.js';
import { deleteRedisPrefix, REDIS_URL, redisKeys, uniqueRedisPrefix } from '../helpers/redis.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const SMALL = { prompt: 'a small stone', width: 256, height: 256, steps: 3 };
/** Long enough (seconds) to be caught running. */
const LONG = { prompt: 'an endless mountain range', width: 2048, height: 2048, steps: 150, seed: 3 };

/** Names of the Redis connections whose name carries `prefix` (ours and BullMQ's). */
async function connectionsOf(prefix: string): Promise<string[]> {
  const redis = new Redis(REDIS_URL);
  try {
    const list = (await redis.client('LIST')) as string;
    return list
      .split('\n')
      .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '')
      .filter((name) => name.includes(prefix));
  } finally {
    redis.disconnect();
  }
}

describe('REDIS_URL and REDIS_PREFIX configuration', () => {
  const configError = (env: NodeJS.ProcessEnv) => {
    try {
      loadConfig(env, '/nonexistent-dir-for-config');
    } catch (error) {
      return error as AtelierError;
    }
    throw new Error('accepted');
  };

  it('defaults to no Redis and the prefix atelier', () => {
    const config = loadConfig({}, '/nonexistent-dir-for-config');
    expect(config.redisUrl).toBeUndefined();
    expect(config.redisPrefix).toBe('atelier');
  });

  it('takes redis:// and rediss:// URLs and a prefix from the environment', () => {
    expect(loadConfig({ REDIS_URL: 'redis://cache:6380/2', REDIS_PREFIX: 'prod-1' }, '/nonexistent-dir-for-config')).toMatchObject({ redisUrl: 'redis://cache:6380/2', redisPrefix: 'prod-1' });
    expect(loadConfig({ REDIS_URL: 'rediss://user:pw@cache:6380' }, '/nonexistent-dir-for-config').redisUrl).toBe('rediss://user:pw@cache:6380');
  });

  it('waits 10 s for Redis at start-up unless REDIS_CONNECT_TIMEOUT_SECONDS says otherwise', () => {
    expect(loadConfig({}, '/nonexistent-dir-for-config').redisConnectTimeoutSeconds).toBe(10);
    expect(loadConfig({ REDIS_CONNECT_TIMEOUT_SECONDS: '2.5' }, '/nonexistent-dir-for-config').redisConnectTimeoutSeconds).toBe(2.5);
  });

  it.each([
    [{ REDIS_URL: 'http://cache:6379' }, 'REDIS_URL'],
    [{ REDIS_URL: 'cache:6379' }, 'REDIS_URL'],
    [{ REDIS_PREFIX: 'has space' }, 'REDIS_PREFIX'],
    [{ REDIS_PREFIX: ':leading-colon' }, 'REDIS_PREFIX'],
    [{ REDIS_CONNECT_TIMEOUT_SECONDS: '0' }, 'REDIS_CONNECT_TIMEOUT_SECONDS'],
    [{ REDIS_CONNECT_TIMEOUT_SECONDS: '601' }, 'REDIS_CONNECT_TIMEOUT_SECONDS'],
  ])('refuses %j naming %s', (env, key) => {
    const error = configError(env);
    expect(error).toBeInstanceOf(AtelierError);
    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain(`environment variable ${key}`);
  });
});

describe('a server on Redis (REDIS_URL: BullMQ queue, pub/sub events)', () => {
  let t: TestServer;
  let api: ApiClient;
  const prefix = uniqueRedisPrefix();

  beforeAll(async () => {
    t = await startTestServer({ REDIS_URL: REDIS_URL, REDIS_PREFIX: prefix });
    api = apiClient(t, t.adminToken);
  });
  afterAll(async () => {
    await t?.close();
    await deleteRedisPrefix(prefix);
  });

  it('is ready with Redis answering, and keeps its queue under its prefix', async () => {
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
    await api.submit({ ...SMALL, seed: 1 });
    const keys = await redisKeys(prefix);
    expect(keys).toContain(`${prefix}:lanes`);
    expect(keys.some((k) => k.startsWith(`${prefix}:jobs-local:`))).toBe(true);
  });

  it('runs several submitted jobs to success through the BullMQ queue', async () => {
    const runs = await Promise.all([1, 2, 3, 4, 5].map((seed) => api.submit({ ...SMALL, seed: 100 + seed })));
    const done = await Promise.all(runs.map((run) => api.waitFor(run.runId)));
    for (const run of done) {
      expect(run.status).toBe('succeeded');
      expect(run.attempts).toBe(1);
      expect(run.assets).toHaveLength(1);
    }
  });

  it('streams the run over SSE: queued, running, progress per step, succeeded, then replays after Last-Event-ID', async () => {
    const run = await api.submit({ prompt: 'a river delta', width: 512, height: 512, steps: 6, seed: 7 });
    // Previews are live-only extras without ids; the durable events are what this checks.
    const live = (await collectEvents(await api.openStream(run.runId))).filter((e) => e.event !== 'preview');
    expect(live.map((e) => e.event)).toEqual(['queued', 'running', ...Array<string>(6).fill('progress'), 'succeeded']);
    expect(live.map((e) => Number(e.id))).toEqual(live.map((_, i) => i + 1));
    const resumed = await collectEvents(await api.openStream(run.runId, 4));
    expect(resumed.map((e) => Number(e.id))).toEqual(live.map((e) => Number(e.id)).filter((id) => id > 4));
  });

  it('cancels a queued job so that it never starts, and a running one so that the runner lets go', async () => {
    const blocker = await api.submit(LONG);
    await api.waitFor(blocker.runId, (r) => r.status === 'running');
    const queued = await api.submit({ ...SMALL, seed: 9 });
    expect((await api.status(queued.runId)).body.status).toBe('queued');

    const canceledQueued = await api.post(`/api/runs/${queued.runId}/cancel`);
    expect(canceledQueued.status).toBe(200);
    expect(canceledQueued.body.status).toBe('canceled');
    const canceledRunning = await api.post(`/api/runs/${blocker.runId}/cancel`);
    expect(canceledRunning.body.status).toBe('canceled');

    // The runner is free again, and the canceled jobs stay canceled.
    const probe = await api.generate({ ...SMALL, seed: 10 });
    expect(probe.status).toBe('succeeded');
    expect((await api.status(queued.runId)).body).toMatchObject({ status: 'canceled', assets: [], startedAt: null });
    expect((await api.status(blocker.runId)).body).toMatchObject({ status: 'canceled', assets: [] });
    expect((await collectEvents(await api.openStream(queued.runId))).map((e) => e.event)).toEqual(['queued', 'canceled']);
    const blockerEvents = (await collectEvents(await api.openStream(blocker.runId))).map((e) => e.event);
    expect(blockerEvents.at(-1)).toBe('canceled');
    expect(blockerEvents).not.toContain('succeeded');
  });

  it('closes every Redis connection it opened on shutdown', async () => {
    expect((await connectionsOf(prefix)).length).toBeGreaterThan(0);
    await t.close();
    const deadline = Date.now() + 3000;
    let left = await connectionsOf(prefix);
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      left = await connectionsOf(prefix);
    }
    expect(left).toEqual([]);
    t = undefined as unknown as TestServer;
  });
});

describe('a server whose Redis does not answer', () => {
  it('refuses to start after REDIS_CONNECT_TIMEOUT_SECONDS, naming REDIS_URL and hiding the password', async () => {
    const startedAt = Date.now();
    // 1 s instead of the default 10: the wait is the same loop, only shorter.
    const started = startTestServer({ REDIS_URL: 'redis://:secret@127.0.0.1:1', REDIS_PREFIX: uniqueRedisPrefix(), REDIS_CONNECT_TIMEOUT_SECONDS: '1' });
    await expect(started).rejects.toThrow(/REDIS_URL \(redis:\/\/:\*\*\*@127\.0\.0\.1:1\/?\) does not answer/);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1000);
  }, 20_000);
});
