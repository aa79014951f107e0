import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readResponse } from '../helpers/api.js';
import { startServerOnDir, writeConfigFile } from '../helpers/server-extras.js';
import { freePort, killAllSpawned, runCli, spawnServer } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import type { TestServer } from '../helpers/test-server.js';
import { remoteConfig, waitUntil } from './worker-helpers.js';

const WORKER_TOKEN = /^atw_[A-Za-z0-9_-]{43}$/;
/** The server's worker token cache (WORKER_TOKEN_CACHE_SECONDS; 5 s by default), so a revocation elsewhere shows within a second. */
const TOKEN_CACHE_MS = 1000;

describe('atelier workers', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  let dataDir: string;
  let configPath: string;
  let server: TestServer | undefined;

  beforeAll(async () => {
    tmp = await makeTempDir('atelier-cli-workers-');
    dataDir = join(tmp.dir, 'data');
    configPath = await writeConfigFile(tmp.dir, remoteConfig());
  });
  afterAll(async () => {
    await killAllSpawned();
    await server?.close();
    await tmp?.remove();
  });

  it('adds a worker, printing only its token; stores only the hash; lists and removes workers', { timeout: 30_000 }, async () => {
    const env = { DATA_DIR: dataDir, ATELIER_CONFIG: configPath };
    const added = await runCli(['workers', 'add', 'gpu-box'], { env });
    expect(added.code, added.stderr).toBe(0);
    const token = added.stdout.trim();
    expect(token).toMatch(WORKER_TOKEN);
    expect(added.stdout).toBe(`${token}\n`);
    expect(added.stderr).toContain("'gpu-box'");
    expect(added.stderr).toContain(`Using the database SQLite ${join(dataDir, 'atelier.db')}`);

    const db = new Database(join(dataDir, 'atelier.db'), { readonly: true });
    try {
      const rows = db.prepare('select name, token_hash from worker_tokens').all() as { name: string; token_hash: string }[];
      expect(rows).toEqual([{ name: 'gpu-box', token_hash: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
      expect(db.prepare('select count(*) as n from api_tokens where token_hash = ?').get(rows[0]!.token_hash)).toEqual({ n: 0 });
    } finally {
      db.close();
    }

    const duplicate = await runCli(['workers', 'add', 'gpu-box'], { env });
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('already exists');
    const nameless = await runCli(['workers', 'add'], { env });
    expect(nameless.code).toBe(64);
    expect(nameless.stderr).toMatch(/^atelier: workers add needs a NAME\nUsage: atelier workers/);

    // The token works against a server on that data directory, on the worker API only.
    server = await startServerOnDir(dataDir, { ATELIER_CONFIG: configPath, WORKER_TOKEN_CACHE_SECONDS: String(TOKEN_CACHE_MS / 1000) });
    const info = await readResponse(await fetch(`${server.url}/api/worker/info`, { headers: { authorization: `Bearer ${token}` } }));
    expect(info).toMatchObject({ status: 200, body: { worker: { name: 'gpu-box' } } });
    expect((await fetch(`${server.url}/api/models`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);

    const listed = await runCli(['workers', 'list'], { env });
    expect(listed.stdout).toMatch(/^gpu-box\t[0-9a-f-]{36}\tlast seen \d{4}-/m);
    expect(listed.stdout).not.toContain(token);

    const removed = await runCli(['workers', 'remove', 'gpu-box'], { env });
    expect(removed.code, removed.stderr).toBe(0);
    // Another process revoked it: the server stops accepting it once its token cache lapses.
    const revokedAfter = Date.now();
    await waitUntil('the revoked token to be refused', async () => (await fetch(`${server!.url}/api/worker/info`, { headers: { authorization: `Bearer ${token}` } })).status === 401, TOKEN_CACHE_MS + 3_000);
    expect(Date.now() - revokedAfter).toBeLessThan(TOKEN_CACHE_MS + 3_000);
    expect((await runCli(['workers', 'remove', 'gpu-box'], { env })).code).toBe(1);
  });

  it('finds the database as `atelier serve` does (atelier.config.json in the working directory) and names it', { timeout: 60_000 }, async () => {
    const cwd = join(tmp.dir, 'configured');
    await mkdir(cwd);
    const port = await freePort();
    await writeFile(join(cwd, 'atelier.config.json'), JSON.stringify({ ...remoteConfig(), dataDir: './state', port }));
    // No DATA_DIR and no ATELIER_CONFIG: only the file in the working directory says where the data is.
    const added = await runCli(['workers', 'add', 'studio'], { cwd, env: {} });
    expect(added.code, added.stderr).toBe(0);
    expect(added.stderr).toContain(`Using the database SQLite ${join(cwd, 'state', 'atelier.db')}`);
    const served = await spawnServer({ cwd, port, env: {} });
    try {
      const info = await fetch(`${served.url}/api/worker/info`, { headers: { authorization: `Bearer ${added.stdout.trim()}` } });
      expect(info.status).toBe(200);
      const listed = await runCli(['workers', 'list'], { cwd, env: {} });
      expect(listed.stdout).toMatch(/^studio\t/m);
    } finally {
      await served.stop();
    }
  });
});

