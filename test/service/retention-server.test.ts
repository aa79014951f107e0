import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetKeys } from '../../src/storage/keys.js';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe('the server sweeps retention periodically', () => {
  let t: TestServer;
  let alice: ApiClient;
  beforeAll(async () => {
    // 0.005 minutes = 300 ms between sweeps (and before the first).
    t = await startTestServer({ RETENTION_SWEEP_MINUTES: '0.005' });
    alice = apiClient(t, (await t.addUser('alice')).token);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('deletes an expired workspace image with its files, keeps the library copy, and counts it', async () => {
    const run = await alice.generate({ prompt: 'a sweep of sand', width: 64, height: 64, steps: 1, seed: 3 });
    const workspace = run.assets[0];
    const saved = await alice.post(`/api/images/${workspace.id}/save`);
    expect(saved.status, saved.text).toBe(201);

    // Age the workspace row as time would: the running server sees the change at its next sweep.
    const db = new Database(join(t.dataDir, 'atelier.db'));
    let keys: string[];
    try {
      const row = db.prepare('select storage_key, thumbnail_key, variants from assets where id = ?').get(workspace.id) as { storage_key: string; thumbnail_key: string; variants: string };
      keys = assetKeys(row);
      db.prepare('update assets set expires_at = ? where id = ?').run(Date.now() - 1000, workspace.id);
    } finally {
      db.close();
    }
    const file = (key: string) => join(t.dataDir, 'media', ...key.split('/'));
    expect(keys.every((key) => existsSync(file(key)))).toBe(true);

    const deadline = Date.now() + 10_000;
    while ((await alice.get(`/api/images/${workspace.id}`)).status !== 404) {
      if (Date.now() > deadline) throw new Error('the server did not sweep the expired image');
      await new Promise((r) => setTimeout(r, 50));
    }
    // Hidden first, then files, then row: wait for the row to go, then nothing may remain.
    for (;;) {
      const check = new Database(join(t.dataDir, 'atelier.db'), { readonly: true });
      const left = check.prepare('select count(*) as n from assets where id = ?').get(workspace.id) as { n: number };
      check.close();
      if (left.n === 0) break;
      if (Date.now() > deadline) throw new Error('the swept row was not deleted');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(keys.filter((key) => existsSync(file(key)))).toEqual([]);

    const history = await alice.get('/api/images/history');
    expect(history.body.images.map((i: any) => i.id)).toEqual([saved.body.id]);
    expect((await alice.get(`/api/images/${saved.body.id}`)).status).toBe(200);

    const metrics = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${t.adminToken}` } });
    expect(await metrics.text()).toMatch(/^atelier_retention_deleted_total\{kind="asset"\} 1$/m);
  });
});
