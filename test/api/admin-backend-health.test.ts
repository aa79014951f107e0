import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { startFakeA1111, type FakeA1111 } from '../helpers/fake-a1111.js';
import { defaultModels, writeConfigFile } from '../helpers/server-extras.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

/** Backend health in GET /api/admin/metrics comes from the routing layer's health checks. */
describe('GET /api/admin/metrics: backend health', () => {
  let up: FakeA1111;
  let deadUrl: string;
  let t: InjectServer;
  let admin: ApiClient;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    up = await startFakeA1111({ stepDelayMs: 1 });
    // A server that was there and is gone: its port now refuses connections.
    const gone = await startFakeA1111();
    deadUrl = gone.url;
    await gone.close();
    const tmp = await makeTempDir('atelier-health-');
    cleanup = tmp.remove;
    const base = { modes: ['t2i'], baseResolution: 512, defaultSteps: 2, defaultCfgScale: 7, defaultSampler: 'Euler' };
    const file = await writeConfigFile(tmp.dir, {
      backends: {
        builtin: { type: 'builtin' },
        pair: { type: 'a1111', urls: [up.url, deadUrl], healthIntervalSeconds: 1 },
        dead: { type: 'a1111', urls: [deadUrl], healthIntervalSeconds: 1, connectSeconds: 1 },
      },
      models: [...defaultModels(), { name: 'on-pair', backend: 'pair', label: 'Pair', ...base }, { name: 'on-dead', backend: 'dead', label: 'Dead', ...base }],
    });
    t = await startInjectServer({ ATELIER_CONFIG: file });
    admin = apiClient(t, t.adminToken);
  });
  afterAll(async () => {
    await t?.close();
    await up?.close();
    await cleanup?.();
  });

  async function backends(): Promise<Record<string, any>> {
    const res = await admin.get('/api/admin/metrics');
    expect(res.status, res.text).toBe(200);
    return Object.fromEntries(res.body.backends.map((b: any) => [b.name, b]));
  }

  it('reports ok, degraded and down from health checks, with instances, in-flight and the last error', async () => {
    // Health checks run every second; wait for the first round to have happened.
    let seen: Record<string, any> = {};
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      seen = await backends();
      if (seen.dead.state === 'down' && seen.pair.state === 'degraded') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen.builtin).toMatchObject({ healthy: true, state: 'ok', instances: { up: 1, total: 1 }, inFlight: 0, lastError: null, succeeded: 0, failed: 0 });
    expect(seen.pair).toMatchObject({ kind: 'a1111', healthy: true, state: 'degraded', instances: { up: 1, total: 2 }, inFlight: 0 });
    expect(seen.pair.lastError).toMatchObject({ message: 'Health check failed', instance: 'pair #2' });
    expect(seen.dead).toMatchObject({ healthy: false, state: 'down', instances: { up: 0, total: 1 } });
    expect(new Date(seen.dead.lastError.at).getTime()).toBeGreaterThan(Date.now() - 10_000);
  });

  it('counts a running job as in flight on its backend', async () => {
    up.fail({ kind: 'slow', ms: 1500 });
    const slow = await admin.post('/api/generate/text-to-image', { model: 'on-pair', prompt: 'slow', width: 512, height: 512, steps: 2, seed: 1 });
    expect(slow.status, slow.text).toBe(202);
    await admin.waitFor(slow.body.runId, (run) => run.status === 'running');
    // The run is marked running a moment before the routing layer calls an instance: wait for
    // that call (the instance then takes 1.5 s), not for a round trip to happen to be slow enough.
    let pair = (await backends()).pair;
    const deadline = Date.now() + 5000;
    while (pair.inFlight === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      pair = (await backends()).pair;
    }
    expect(pair.inFlight).toBe(1);
    expect((await admin.waitFor(slow.body.runId)).status).toBe('succeeded');
    expect((await backends()).pair).toMatchObject({ inFlight: 0, succeeded: 1 });
  });
});
