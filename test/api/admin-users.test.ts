import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { testSchema } from '../helpers/postgres.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

const SMALL = { prompt: 'a small stone', width: 64, height: 64, steps: 2 };

describe('user administration: /api/admin/users', () => {
  let t: InjectServer;
  let admin: ApiClient;

  beforeAll(async () => {
    t = await startInjectServer();
    admin = apiClient(t, t.adminToken);
  });
  afterAll(async () => {
    await t?.close();
  });

  const as = (token: string) => apiClient(t, token);

  it('GET lists the users, oldest first, with their roles and token counts; admins only', async () => {
    const ivy = await t.addUser('ivy');
    const res = await admin.get('/api/admin/users');
    expect(res.status, res.text).toBe(200);
    const names = res.body.users.map((u: any) => u.name);
    expect(names.slice(0, 1)).toEqual(['admin']);
    expect(res.body.users.find((u: any) => u.name === 'ivy')).toEqual({ id: ivy.id, name: 'ivy', role: 'user', createdAt: expect.stringMatching(/^\d{4}-/), tokens: 1 });
    expect(res.text).not.toContain('atl_');
    const refused = await as(ivy.token).get('/api/admin/users');
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('forbidden');
  });

  it('DELETE removes a user: its token is a 401 on the next request, its runs stay', async () => {
    const jack = await t.addUser('jack');
    const client = as(jack.token);
    const run = await client.generate({ ...SMALL, seed: 1 });
    expect((await client.get('/api/me')).status).toBe(200);

    const removed = await admin.delete(`/api/admin/users/${jack.id}`);
    expect(removed.status, removed.text).toBe(204);
    const after = await client.get('/api/me');
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('unauthorized');
    expect((await client.submit({ ...SMALL, seed: 2 }).catch((e: Error) => e.message))).toMatch(/401/);

    // The run and its files stay, for an admin.
    const status = await admin.status(run.runId);
    expect(status.status).toBe(200);
    expect(status.body.status).toBe('succeeded');
    expect((await admin.download(status.body.assets[0].url)).status).toBe(200);
    expect((await admin.get(`/api/runs?user=${jack.id}`)).body.runs.map((r: any) => r.runId)).toEqual([run.runId]);
    expect((await admin.get('/api/admin/users')).body.users.map((u: any) => u.name)).not.toContain('jack');

    // Gone is gone; the name is free again.
    expect((await admin.delete(`/api/admin/users/${jack.id}`)).status).toBe(404);
    expect((await admin.post(`/api/admin/users/${jack.id}/tokens`)).status).toBe(404);
    const newJack = await t.addUser('jack');
    expect(newJack.id).not.toBe(jack.id);
    expect((await as(newJack.token).get('/api/me')).body).toMatchObject({ id: newJack.id, name: 'jack' });
  });

  it('DELETE refuses the last admin (409 last_admin) and non-admins (403); 404 for an unknown id', async () => {
    const adminId = (await admin.get('/api/me')).body.id as string;
    const last = await admin.delete(`/api/admin/users/${adminId}`);
    expect(last.status).toBe(409);
    expect(last.body.code).toBe('last_admin');
    expect((await admin.get('/api/me')).status).toBe(200);

    const kim = await t.addUser('kim');
    expect((await as(kim.token).delete(`/api/admin/users/${adminId}`)).status).toBe(403);
    expect((await admin.delete('/api/admin/users/no-such-user')).status).toBe(404);

    // With a second admin, the first may go — even by its own hand.
    const second = await admin.post('/api/admin/users', { name: 'second-admin', role: 'admin' });
    expect(second.status).toBe(201);
    const secondAdmin = as(second.body.token);
    const self = await secondAdmin.delete(`/api/admin/users/${second.body.id}`);
    expect(self.status).toBe(204);
    expect((await secondAdmin.get('/api/me')).status).toBe(401);
  });

  it('POST refuses a name holding a control or formatting character (a terminal escape, a right-to-left override)', async () => {
    for (const name of ['evil\u001b[2J', 'bell\u0007', 'admin\u202egnp.exe', 'zero\u200bwidth', 'c1\u009bx']) {
      const res = await admin.post('/api/admin/users', { name });
      expect(res.status, name).toBe(422);
      expect(res.body).toMatchObject({ code: 'invalid_parameter', field: 'name' });
    }
    const listed = (await admin.get('/api/admin/users')).body.users.map((u: any) => u.name);
    expect(listed.some((n: string) => /[\p{Cc}\p{Cf}]/u.test(n))).toBe(false);
    expect((await admin.post('/api/admin/users', { name: 'Zoë Ünïcode 日本' })).status).toBe(201);
  });

  it('POST …/tokens issues a new token shown once; ?revoke_others=true rotates', async () => {
    const lea = await t.addUser('lea');
    const issued = await admin.post(`/api/admin/users/${lea.id}/tokens`);
    expect(issued.status, issued.text).toBe(201);
    expect(issued.body).toEqual({ id: lea.id, name: 'lea', role: 'user', token: expect.stringMatching(/^atl_/), revokedTokens: 0 });
    expect((await as(issued.body.token).get('/api/me')).body.id).toBe(lea.id);
    expect((await as(lea.token).get('/api/me')).status).toBe(200);
    expect((await admin.get('/api/admin/users')).body.users.find((u: any) => u.id === lea.id).tokens).toBe(2);

    const rotated = await admin.post(`/api/admin/users/${lea.id}/tokens?revoke_others=true`);
    expect(rotated.status).toBe(201);
    expect(rotated.body.revokedTokens).toBe(2);
    expect((await as(lea.token).get('/api/me')).status).toBe(401);
    expect((await as(issued.body.token).get('/api/me')).status).toBe(401);
    expect((await as(rotated.body.token).get('/api/me')).body.id).toBe(lea.id);
    expect((await admin.get('/api/admin/users')).body.users.find((u: any) => u.id === lea.id).tokens).toBe(1);

    const bad = await admin.post(`/api/admin/users/${lea.id}/tokens?revoke_others=maybe`);
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ code: 'invalid_parameter', field: 'revoke_others' });
    expect((await as(rotated.body.token).post(`/api/admin/users/${lea.id}/tokens`)).status).toBe(403);
  });
});

describe('user removal across nodes sharing PostgreSQL', () => {
  const schema = testSchema();
  let a: InjectServer;
  let b: InjectServer;

  beforeAll(async () => {
    const shared = { DATABASE_URL: schema.url, RUNNER_CONCURRENCY: '0', ATELIER_ADMIN_TOKEN: 'atl_admin_users_two_nodes_0123456789abcdef012' };
    a = await startInjectServer(shared);
    b = await startInjectServer(shared);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await schema.drop();
  });

  it('a user removed on one node is refused on the other at once (tokens are not cached)', async () => {
    const user = await a.addUser('mia');
    const onB = apiClient(b, user.token);
    expect((await onB.get('/api/me')).status).toBe(200);
    expect((await apiClient(a, a.adminToken).delete(`/api/admin/users/${user.id}`)).status).toBe(204);
    expect((await onB.get('/api/me')).status).toBe(401);

    const nia = await b.addUser('nia');
    const rotated = await apiClient(a, a.adminToken).post(`/api/admin/users/${nia.id}/tokens?revoke_others=true`);
    expect((await apiClient(b, nia.token).get('/api/me')).status).toBe(401);
    expect((await apiClient(b, rotated.body.token).get('/api/me')).status).toBe(200);
  });
});
