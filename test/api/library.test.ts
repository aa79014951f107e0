import { access } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

describe('saving to the library', () => {
  let t: InjectServer;
  let alice: ApiClient;
  let bob: ApiClient;
  let aliceId: string;
  beforeAll(async () => {
    t = await startInjectServer();
    const created = await t.addUser('alice');
    aliceId = created.id;
    alice = apiClient(t, created.token);
    bob = apiClient(t, (await t.addUser('bob')).token);
  });
  afterAll(async () => {
    await t.close();
  });

  it('copies original and thumbnail to user-library keys and records a library item that never expires', async () => {
    const run = await alice.generate({ prompt: 'a library of old books', width: 320, height: 256, steps: 2, seed: 5 });
    const workspace = run.assets[0];
    const saved = await alice.post(`/api/images/${workspace.id}/save`);
    expect(saved.status, saved.text).toBe(201);
    expect(saved.body).toMatchObject({ collection: 'library', expiresAt: null, runId: run.runId, width: 320, height: 256 });
    expect(saved.body.id).not.toBe(workspace.id);

    const media = join(t.dataDir, 'media', 'user-library', aliceId, run.runId);
    await access(join(media, '0.png'));
    await access(join(media, '0.thumb.webp'));
    const [original, copy] = await Promise.all([alice.download(workspace.url), alice.download(saved.body.imageUrl)]);
    expect(copy.bytes.equals(original.bytes)).toBe(true);
    expect((await sharp((await alice.download(saved.body.thumbnailUrl)).bytes).metadata()).format).toBe('webp');

    const again = await alice.post(`/api/images/${workspace.id}/save`);
    expect(again.body.id).toBe(saved.body.id);

    const library = await alice.get('/api/images/history/?collection=library');
    expect(library.body.images.map((i: any) => i.id)).toEqual([saved.body.id]);
    const workspaceOnly = await alice.get('/api/images/history/?collection=workspace');
    expect(workspaceOnly.body.images.map((i: any) => i.id)).toContain(workspace.id);
    expect(workspaceOnly.body.images.map((i: any) => i.id)).not.toContain(saved.body.id);
    const history = await alice.get(`/api/images/${workspace.id}`);
    expect(history.body.collection).toBe('workspace');
    expect(Date.parse(history.body.expiresAt)).toBeGreaterThan(Date.now());

    // Deleting the workspace item leaves the library copy intact.
    expect((await alice.delete(`/api/images/${workspace.id}`)).status).toBe(204);
    expect((await alice.download(saved.body.imageUrl)).status).toBe(200);
  });

  it("refuses to save another user's image", async () => {
    const run = await alice.generate({ prompt: 'x', width: 64, height: 64, steps: 1 });
    expect((await bob.post(`/api/images/${run.assets[0].id}/save`)).status).toBe(404);
  });
});
