import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { detailEnergy } from '../helpers/detail-energy.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startInjectServerOnDir, type InjectServer } from '../helpers/test-server.js';

// The safety policy is the server's configuration, so "tightened since" is a restart on the same
// data directory (records, prompt cache and files kept) with a stricter SAFETY_POLICY or
// SAFETY_THRESHOLD. Threshold 1: porn + hentai never reach it (nothing flagged); 0: everything is.
describe('the prompt cache under a safety policy tightened since the cached run (real nsfwjs model)', () => {
  let data: { dir: string; remove: () => Promise<void> };
  let t: InjectServer | undefined;
  let token: string;
  let alice: ApiClient;

  /** (Re)starts the server on the same directory under `safety`, with the prompt cache on. */
  async function restart(safety: { SAFETY_POLICY: string; SAFETY_THRESHOLD?: string }) {
    await t?.close();
    t = await startInjectServerOnDir(data.dir, { CACHE_DEFAULT_MODE: 'seed-aware', ...safety });
    token ??= (await t.addUser('alice')).token;
    alice = apiClient(t, token);
  }
  const request = (prompt: string) => ({ model: 'preview', prompt, width: 256, height: 256, steps: 3, seed: 77 });
  /** Submits and waits: a cache hit answers finished at once, a miss is queued and rendered. */
  async function run(body: Record<string, unknown>) {
    const res = await alice.post('/api/generate/text-to-image', body);
    expect(res.status, res.text).toBe(202);
    return res.body.status === 'queued' ? alice.waitFor(res.body.runId, undefined, 90_000) : res.body;
  }

  beforeAll(async () => {
    data = await makeTempDir('atelier-cache-safety-');
  });
  afterAll(async () => {
    await t?.close();
    await data?.remove();
  });

  it('block: a cached clean-at-the-time output that today\'s threshold flags is a miss; the fresh run is refused (output_refused), as any run would be', async () => {
    await restart({ SAFETY_POLICY: 'flag', SAFETY_THRESHOLD: '1' });
    const body = request('a red barn in a wheat field');
    const first = await run(body);
    expect(first.status, JSON.stringify(first.error)).toBe('succeeded');
    expect(first.assets[0].metadata.safety.flagged).toBe(false);
    // Under the same policy the cache serves it.
    const again = await run(body);
    expect(again).toMatchObject({ cached: true, cachedFrom: first.runId });

    await restart({ SAFETY_POLICY: 'block', SAFETY_THRESHOLD: '0' });
    expect((await alice.post('/api/cache/lookup', { parameters: body })).body).toMatchObject({ hit: false, runId: null });
    const blocked = await run(body);
    expect(blocked.cached).toBe(false);
    expect(blocked.cachedFrom).toBeNull();
    expect(blocked.status).toBe('failed');
    expect(blocked.error.code).toBe('output_refused');
    expect(blocked.assets).toEqual([]);
  }, 180_000);

  it('blur: a flagged output cached unblurred is a miss (its pixels are never handed out); the fresh, blurred run is then served from the cache', async () => {
    await restart({ SAFETY_POLICY: 'flag', SAFETY_THRESHOLD: '0' });
    const body = request('a lighthouse on a rock');
    const plain = await run(body);
    expect(plain.assets[0].metadata.safety).toMatchObject({ flagged: true });
    expect(plain.assets[0].metadata.safety.blurred).toBeUndefined();

    await restart({ SAFETY_POLICY: 'blur', SAFETY_THRESHOLD: '0' });
    const blurred = await run(body);
    expect(blurred.cached).toBe(false);
    expect(blurred.status).toBe('succeeded');
    expect(blurred.assets[0].metadata.safety).toMatchObject({ flagged: true, blurred: true });

    // Now the newest entry is the blurred run: a hit, whose URL serves the blurred copy.
    const hit = await run(body);
    expect(hit).toMatchObject({ cached: true, cachedFrom: blurred.runId });
    const served = await alice.download(hit.assets[0].url);
    expect(served.status).toBe(200);
    expect((await sharp(served.bytes).metadata()).format).not.toBe('png');
    const original = await alice.get(`/api/images/${plain.assets[0].id}/file`);
    expect(await detailEnergy(served.bytes)).toBeLessThan((await detailEnergy(original.bytes)) / 10);
  }, 180_000);

  it('an output made under policy off (never scanned) is a miss once a policy is on: the fresh run is scanned', async () => {
    await restart({ SAFETY_POLICY: 'off' });
    const body = request('a quiet pond at dawn');
    const unscanned = await run(body);
    expect(unscanned.assets[0].metadata.safety).toBeUndefined();
    expect(await run(body)).toMatchObject({ cached: true, cachedFrom: unscanned.runId });

    await restart({ SAFETY_POLICY: 'flag', SAFETY_THRESHOLD: '1' });
    const scanned = await run(body);
    expect(scanned.cached).toBe(false);
    expect(scanned.assets[0].metadata.safety).toMatchObject({ model: 'nsfwjs-mobilenet-v2', flagged: false });
  }, 180_000);
});
