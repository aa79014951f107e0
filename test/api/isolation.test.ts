import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient, type ApiResponse } from '../helpers/api.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

function expectNotFound(res: ApiResponse): void {
  expect(res.status, res.text).toBe(404);
  expect(res.body).toMatchObject({ code: 'not_found' });
}

describe('users only see their own runs and images', () => {
  let t: InjectServer;
  let admin: ApiClient;
  let alice: ApiClient;
  let bob: ApiClient;
  let aliceRun: any;
  let aliceImageId: string;
  let bobRun: any;

  beforeAll(async () => {
    t = await startInjectServer();
    admin = apiClient(t, t.adminToken);
    alice = apiClient(t, (await t.addUser('alice')).token);
    bob = apiClient(t, (await t.addUser('bob')).token);
    aliceRun = await alice.generate({ prompt: "alice's secret garden", width: 256, height: 256, steps: 3, seed: 1 });
    aliceImageId = aliceRun.assets[0].id;
    bobRun = await bob.generate({ prompt: "bob's workshop", width: 256, height: 256, steps: 3, seed: 2 });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("hides alice's run status from bob", async () => {
    expectNotFound(await bob.status(aliceRun.runId));
  });

  it("hides alice's event stream from bob", async () => {
    const res = await bob.openStream(aliceRun.runId);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toMatchObject({ code: 'not_found' });
  });

  it("does not let bob cancel alice's run", async () => {
    expectNotFound(await bob.post(`/api/runs/${aliceRun.runId}/cancel`));
    expect((await alice.status(aliceRun.runId)).body.status).toBe('succeeded');
  });

  it("hides alice's image detail and file from bob", async () => {
    expectNotFound(await bob.get(`/api/images/${aliceImageId}`));
    expectNotFound(await bob.get(`/api/images/${aliceImageId}/file`));
  });

  it("does not let bob delete alice's image", async () => {
    expectNotFound(await bob.delete(`/api/images/${aliceImageId}/`));
    expectNotFound(await bob.delete(`/api/images/${aliceImageId}`));
    const still = await alice.get(`/api/images/${aliceImageId}`);
    expect(still.status).toBe(200);
    expect(still.body.id).toBe(aliceImageId);
    const file = await alice.get(`/api/images/${aliceImageId}/file`);
    expect(file.status).toBe(200);
    expect(file.bytes.byteLength).toBeGreaterThan(0);
  });

  it("keeps each user's history to their own images", async () => {
    const bobHistory = await bob.get('/api/images/history');
    expect(bobHistory.status).toBe(200);
    expect(bobHistory.body.total).toBe(1);
    expect(bobHistory.body.images.map((i: any) => i.runId)).toEqual([bobRun.runId]);

    const aliceHistory = await alice.get('/api/images/history');
    expect(aliceHistory.body.total).toBe(1);
    expect(aliceHistory.body.images.map((i: any) => i.id)).toEqual([aliceImageId]);
  });

  it('shows a user with no runs an empty history', async () => {
    const carol = apiClient(t, (await t.addUser('carol')).token);
    const history = await carol.get('/api/images/history');
    expect(history.status).toBe(200);
    expect(history.body).toMatchObject({ images: [], total: 0, page: 1 });
  });

  it("hides bob's run from alice", async () => {
    expectNotFound(await alice.status(bobRun.runId));
    expectNotFound(await alice.get(`/api/images/${bobRun.assets[0].id}`));
  });

  it("lets the admin see any user's run", async () => {
    const res = await admin.status(aliceRun.runId);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ runId: aliceRun.runId, status: 'succeeded', parameters: { prompt: "alice's secret garden" } });
    expect(res.body.assets.map((a: any) => a.id)).toEqual([aliceImageId]);
  });

  it('forbids a non-admin from creating users', async () => {
    const res = await alice.post('/api/admin/users', { name: 'mallory' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'forbidden' });
    const promote = await alice.post('/api/admin/users', { name: 'mallory', role: 'admin' });
    expect(promote.status).toBe(403);
  });

  it('forbids a non-admin from reading metrics', async () => {
    const res = await bob.get('/metrics');
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'forbidden' });
    expect(res.text).not.toContain('atelier_');
  });

  it('lets the admin create a user whose token works at once', async () => {
    const res = await admin.post('/api/admin/users', { name: 'dave' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: expect.any(String), name: 'dave', role: 'user', token: expect.any(String) });
    expect((await apiClient(t, res.body.token).get('/api/images/history')).body.total).toBe(0);
  });
});
