import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

describe('workspace expiry on every item', () => {
  let t: InjectServer;
  let api: ApiClient;
  beforeAll(async () => {
    t = await startInjectServer({ WORKSPACE_TTL_HOURS: '2' });
    api = apiClient(t, (await t.addUser('keeper')).token);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('the run view and the history give each workspace asset its expiresAt; a library copy has none', async () => {
    const done = await api.waitFor((await api.submit({ prompt: 'a short-lived picture', width: 64, height: 64, steps: 2, seed: 1 })).runId);
    expect(done.status).toBe('succeeded');
    const asset = done.assets[0];
    expect(Date.parse(asset.expiresAt) - Date.parse(asset.createdAt)).toBe(2 * 3_600_000);

    const history = (await api.get('/api/images/history?type=all')).body;
    expect(history.images.find((i: { id: string }) => i.id === asset.id)).toMatchObject({ collection: 'workspace', expiresAt: asset.expiresAt });

    const saved = await api.post(`/api/images/${asset.id}/save`);
    expect(saved.status, saved.text).toBeLessThan(300);
    const library = (await api.get('/api/images/history?collection=library')).body;
    expect(library.images).toHaveLength(1);
    expect(library.images[0].expiresAt).toBeNull();
  });
});
