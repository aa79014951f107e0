import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { metricsText, metricValue } from '../helpers/server-extras.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

const RENDERED = 3;

describe('GET /api/admin/metrics (dashboard JSON)', () => {
  let t: InjectServer;
  let admin: ApiClient;
  let user: ApiClient;
  /** How long the cache hit's submission took, end to end: its recorded duration is at most this. */
  let hitRequestSeconds = 0;

  beforeAll(async () => {
    t = await startInjectServer({ CACHE_DEFAULT_MODE: 'seed-aware' });
    admin = apiClient(t, t.adminToken);
    user = apiClient(t, (await t.addUser('viewer')).token);
    // Three rendered runs (three cache misses), then one repeat served from the cache.
    for (let i = 0; i < RENDERED; i++) await user.generate({ prompt: `metrics run ${i}`, width: 96, height: 96, steps: 2, seed: 10 + i });
    const started = performance.now();
    const hit = await user.submit({ prompt: 'metrics run 0', width: 96, height: 96, steps: 2, seed: 10 });
    hitRequestSeconds = (performance.now() - started) / 1000;
    expect(hit.cached).toBe(true);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses non-admins (403) and anonymous callers (401)', async () => {
    const res = await user.get('/api/admin/metrics');
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
    expect((await apiClient(t, null).get('/api/admin/metrics')).status).toBe(401);
  });

  it('reports cache hits, misses and the hit ratio', async () => {
    const res = await admin.get('/api/admin/metrics');
    expect(res.status, res.text).toBe(200);
    expect(res.body.cache).toEqual({ hits: 1, misses: RENDERED, hitRatio: 1 / (RENDERED + 1) });
  });

  it('reports the job duration histogram: cumulative, non-decreasing buckets and the count', async () => {
    const { jobDuration } = (await admin.get('/api/admin/metrics')).body;
    expect(jobDuration.count).toBe(RENDERED + 1);
    const buckets = jobDuration.buckets as { le: number; count: number }[];
    expect(buckets.length).toBeGreaterThan(0);
    expect(buckets.map((b) => b.le)).toEqual([0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]);
    for (let i = 1; i < buckets.length; i++) {
      expect(buckets[i]!.le).toBeGreaterThan(buckets[i - 1]!.le);
      expect(buckets[i]!.count).toBeGreaterThanOrEqual(buckets[i - 1]!.count);
    }
    // Every job took well under 300 s, so the last finite bucket holds them all.
    expect(buckets.at(-1)!.count).toBe(jobDuration.count);
    // The cache hit finished within its own request, so the first bucket that covers the
    // request's duration holds it (whatever the machine's load made that duration).
    const covering = buckets.find((b) => b.le >= hitRequestSeconds)!;
    expect(covering.count).toBeGreaterThanOrEqual(1);
  });

  it('reports succeeded jobs per backend, the cache hit included', async () => {
    const { backends } = (await admin.get('/api/admin/metrics')).body;
    expect(backends).toHaveLength(1);
    expect(backends[0]).toMatchObject({ name: 'builtin', kind: 'builtin', healthy: true, failed: 0 });
    expect(backends[0].succeeded).toBe(RENDERED + 1);
    expect(typeof backends[0].label).toBe('string');
  });

  it('agrees with /metrics', async () => {
    const body = (await admin.get('/api/admin/metrics')).body;
    const text = await metricsText(t);
    expect(metricValue(text, 'atelier_prompt_cache_lookups_total{result="hit"}')).toBe(body.cache.hits);
    expect(metricValue(text, 'atelier_prompt_cache_lookups_total{result="miss"}')).toBe(body.cache.misses);
  });

  it('reports queue depth and canceled jobs', async () => {
    const idle = (await admin.get('/api/admin/metrics')).body.queue;
    expect(idle).toMatchObject({ waiting: 0, delayed: 0, active: 0 });

    // A long job holds the only runner; two more wait behind it.
    const blocker = await user.submit({ prompt: 'a slow one', width: 2048, height: 2048, steps: 150, cache_mode: 'off' });
    await user.waitFor(blocker.runId, (run) => run.status === 'running');
    const queued = [await user.submit({ prompt: 'waiting 1', width: 64, height: 64, steps: 1 }), await user.submit({ prompt: 'waiting 2', width: 64, height: 64, steps: 1 })];
    const busy = (await admin.get('/api/admin/metrics')).body.queue;
    expect(busy).toMatchObject({ waiting: 2, delayed: 0, active: 1 });

    for (const run of [...queued, blocker]) expect((await user.post(`/api/runs/${run.runId}/cancel`)).status).toBe(200);
    await user.waitFor(blocker.runId);
    const after = (await admin.get('/api/admin/metrics')).body;
    // The running job's cancel is counted by its runner once it stops.
    const deadline = Date.now() + 10_000;
    let current = after;
    while (current.backends[0].canceled < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      current = (await admin.get('/api/admin/metrics')).body;
    }
    expect(current.backends[0].canceled).toBe(3);
    expect(current.queue).toMatchObject({ waiting: 0, delayed: 0, active: 0 });
    expect(current.jobDuration.count).toBe(RENDERED + 1 + 3);
  });
});
