import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { createHeldBackend, heldServerOptions, HELD_MODEL, type HeldBackend } from '../helpers/held-backend.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

const SMALL = { width: 64, height: 64, steps: 2 };

describe("GET /api/admin/jobs (every user's jobs, for the admin screen)", () => {
  let t: InjectServer;
  let held: HeldBackend;
  let admin: ApiClient;
  let ivy: ApiClient;
  let ivyId: string;
  let jackId: string;
  let failed: any;
  let running: any;
  let done: any;

  beforeAll(async () => {
    held = createHeldBackend();
    t = await startInjectServer({}, heldServerOptions(held));
    admin = apiClient(t, t.adminToken);
    const created = await t.addUser('ivy');
    ivyId = created.id;
    ivy = apiClient(t, created.token);
    const jackUser = await t.addUser('jack');
    jackId = jackUser.id;
    const jack = apiClient(t, jackUser.token);
    held.release();
    done = await jack.generate({ ...SMALL, prompt: 'a finished thing', seed: 1 });
    held.hold();
    held.failNext('the backend broke on purpose');
    failed = await ivy.waitFor((await ivy.submit({ ...SMALL, model: HELD_MODEL, prompt: 'a failing thing', seed: 2 })).runId);
    running = await ivy.submit({ ...SMALL, model: HELD_MODEL, prompt: 'a held thing', seed: 3 });
    await ivy.waitFor(running.runId, (run) => run.status === 'running');
  });
  afterAll(async () => {
    held?.release();
    await t?.close();
  });

  it('lists the jobs of every user newest first with status, user, model, duration and error', async () => {
    const res = await admin.get('/api/admin/jobs');
    expect(res.status, res.text).toBe(200);
    expect(res.body.jobs.map((j: any) => [j.id, j.status, j.userName])).toEqual([
      [running.runId, 'running', 'ivy'],
      [failed.runId, 'failed', 'ivy'],
      [done.runId, 'succeeded', 'jack'],
    ]);
    const [run, fail, ok] = res.body.jobs;
    expect(fail).toMatchObject({ userId: ivyId, model: HELD_MODEL, mode: 't2i', prompt: 'a failing thing', error: { code: expect.any(String), message: expect.stringContaining('the backend broke on purpose') } });
    expect(fail.durationMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(fail.finishedAt) - Date.parse(fail.startedAt)).toBe(fail.durationMs);
    expect(ok).toMatchObject({ model: 'preview', error: null, finishedAt: expect.stringMatching(/^\d{4}-/) });
    expect(ok.durationMs).toBe(Date.parse(ok.finishedAt) - Date.parse(ok.startedAt));
    // A running job's duration is the time so far.
    expect(run.finishedAt).toBeNull();
    expect(run.durationMs).toBeGreaterThanOrEqual(0);
    expect(run.error).toBeNull();
    expect(res.body.nextCursor).toBeNull();
  });

  it('filters by status and pages with a cursor', async () => {
    const onlyFailed = await admin.get('/api/admin/jobs?status=failed');
    expect(onlyFailed.body.jobs.map((j: any) => j.id)).toEqual([failed.runId]);
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await admin.get(`/api/admin/jobs?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.body.jobs).toHaveLength(1);
      ids.push(page.body.jobs[0].id);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(ids).toEqual([running.runId, failed.runId, done.runId]);
    const bad = await admin.get('/api/admin/jobs?cursor=nonsense');
    expect(bad.status).toBe(422);
    expect(bad.body.field).toBe('cursor');
  });

  it('is for admins only', async () => {
    const res = await ivy.get('/api/admin/jobs');
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
  });

  it("lets an admin cancel another user's running job, which the list then shows canceled", async () => {
    const cancel = await admin.post(`/api/runs/${running.runId}/cancel`);
    expect(cancel.status, cancel.text).toBe(200);
    await ivy.waitFor(running.runId, (run) => run.status === 'canceled');
    const res = await admin.get('/api/admin/jobs?status=canceled');
    expect(res.body.jobs.map((j: any) => [j.id, j.userName])).toEqual([[running.runId, 'ivy']]);
  });

  it("keeps a removed user's jobs, with a null userName", async () => {
    expect((await admin.delete(`/api/admin/users/${jackId}`)).status).toBe(204);
    const res = await admin.get('/api/admin/jobs?status=succeeded');
    expect(res.body.jobs.map((j: any) => [j.id, j.userId, j.userName])).toEqual([[done.runId, jackId, null]]);
  });
});
