import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

describe('Idempotency-Key on POST /api/generate/text-to-image', () => {
  let t: InjectServer;
  const GENERATE = '/api/generate/text-to-image';
  const body = (prompt: string) => ({ prompt, width: 256, height: 256, steps: 3, seed: 42 });
  const newUser = async (name: string): Promise<ApiClient> => apiClient(t, (await t.addUser(`${name}-${randomUUID().slice(0, 8)}`)).token);

  beforeAll(async () => {
    t = await startInjectServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('replays the same run for the same key and body, and creates only one job', async () => {
    const user = await newUser('replay');
    const key = randomUUID();
    const first = await user.post(GENERATE, body('a paper boat'), { 'idempotency-key': key });
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();

    const second = await user.post(GENERATE, body('a paper boat'), { 'idempotency-key': key });
    expect(second.status).toBe(202);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body.runId).toBe(first.body.runId);
    expect(second.headers.get('location')).toBe(`/api/status/${first.body.runId}`);

    const done = await user.waitFor(first.body.runId);
    expect(done.status).toBe('succeeded');

    // A replay after the run finished still returns that run, now with its assets.
    const third = await user.post(GENERATE, body('a paper boat'), { 'idempotency-key': key });
    expect(third.headers.get('idempotent-replayed')).toBe('true');
    expect(third.body).toMatchObject({ runId: first.body.runId, status: 'succeeded' });
    expect(third.body.assets.map((a: any) => a.id)).toEqual(done.assets.map((a: any) => a.id));

    const history = await user.get('/api/images/history');
    expect(history.body.total).toBe(1);
    expect(history.body.images[0].runId).toBe(first.body.runId);
  });

  it('treats the same body with its keys in another order as the same request', async () => {
    const user = await newUser('order');
    const key = randomUUID();
    const first = await user.post(GENERATE, { prompt: 'a kite', width: 256, height: 256, steps: 3 }, { 'idempotency-key': key });
    const second = await user.post(GENERATE, { steps: 3, height: 256, width: 256, prompt: 'a kite' }, { 'idempotency-key': key });
    expect(second.status).toBe(202);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body.runId).toBe(first.body.runId);
    await user.waitFor(first.body.runId);
  });

  it('refuses the same key with a different body with 409 idempotency_key_reused', async () => {
    const user = await newUser('reuse');
    const key = randomUUID();
    const first = await user.post(GENERATE, body('a red barn'), { 'idempotency-key': key });
    expect(first.status).toBe(202);
    const second = await user.post(GENERATE, body('a blue barn'), { 'idempotency-key': key });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ code: 'idempotency_key_reused' });
    expect(second.headers.get('idempotent-replayed')).toBeNull();
    // The original is untouched.
    const done = await user.waitFor(first.body.runId);
    expect(done.parameters.prompt).toBe('a red barn');
    expect((await user.get('/api/images/history')).body.total).toBe(1);
  });

  it('creates a fresh run when no key is sent, even for identical bodies', async () => {
    const user = await newUser('nokey');
    const a = await user.post(GENERATE, body('a lantern'));
    const b = await user.post(GENERATE, body('a lantern'));
    expect(a.body.runId).not.toBe(b.body.runId);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    await Promise.all([user.waitFor(a.body.runId), user.waitFor(b.body.runId)]);
  });

  it("keeps one user's key independent of another user's", async () => {
    const [carol, dave] = await Promise.all([newUser('carol'), newUser('dave')]);
    const key = randomUUID();
    const c = await carol.post(GENERATE, body('a shared idea'), { 'idempotency-key': key });
    const d = await dave.post(GENERATE, body('a shared idea'), { 'idempotency-key': key });
    expect(c.status).toBe(202);
    expect(d.status).toBe(202);
    expect(d.headers.get('idempotent-replayed')).toBeNull();
    expect(d.body.runId).not.toBe(c.body.runId);
    // A different body under the same key is fine for the other user too.
    const e = await dave.post(GENERATE, body('something else'), { 'idempotency-key': randomUUID() });
    expect(e.status).toBe(202);
    // Each sees only their own run.
    expect((await carol.status(d.body.runId)).status).toBe(404);
    await Promise.all([carol.waitFor(c.body.runId), dave.waitFor(d.body.runId), dave.waitFor(e.body.runId)]);
  });

  it('collapses concurrent duplicates onto one run', async () => {
    const user = await newUser('race');
    const key = randomUUID();
    const responses = await Promise.all(Array.from({ length: 5 }, () => user.post(GENERATE, body('a crowded doorway'), { 'idempotency-key': key })));
    for (const res of responses) expect(res.status, res.text).toBe(202);
    const runIds = new Set(responses.map((r) => r.body.runId));
    expect(runIds.size).toBe(1);
    // Exactly one request created it; the rest were replays.
    expect(responses.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(4);

    const [runId] = [...runIds] as [string];
    const done = await user.waitFor(runId);
    expect(done.status).toBe('succeeded');
    expect((await user.get('/api/images/history')).body.total).toBe(1);
  });

  it('rejects an over-long Idempotency-Key', async () => {
    const user = await newUser('long');
    const res = await user.post(GENERATE, body('a long key'), { 'idempotency-key': 'k'.repeat(256) });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'invalid_parameter' });
  });
});
