import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/temp-dir.js';
import { killAllSpawned, runCli, spawnServer, type SpawnedServer } from '../helpers/spawn-server.js';

const TOKEN = /^atl_[A-Za-z0-9_-]{43}$/;

describe('atelier users', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  let carolToken: string;
  let server: SpawnedServer | undefined;

  beforeAll(async () => {
    tmp = await makeTempDir('atelier-cli-users-');
  });
  afterAll(async () => {
    await killAllSpawned();
    await tmp?.remove();
  });

  const models = (url: string, token: string) => fetch(`${url}/api/models`, { headers: { authorization: `Bearer ${token}` } });

  it('users add carol creates the database and prints only the token on stdout', async () => {
    const dataDir = join(tmp.dir, 'data');
    expect(existsSync(dataDir)).toBe(false);
    const result = await runCli(['users', 'add', 'carol'], { env: { DATA_DIR: dataDir } });
    expect(result.code, result.stderr).toBe(0);
    carolToken = result.stdout.trim();
    expect(carolToken).toMatch(TOKEN);
    expect(result.stdout).toBe(`${carolToken}\n`);
    expect(result.stderr).toContain("'carol'");
    expect(existsSync(join(dataDir, 'atelier.db'))).toBe(true);

    const db = new Database(join(dataDir, 'atelier.db'), { readonly: true });
    try {
      const users = db.prepare('select name, role from users').all();
      expect(users).toEqual([{ name: 'carol', role: 'user' }]);
      // Only the hash is stored, never the token.
      const tokens = db.prepare('select token_hash from api_tokens').all() as { token_hash: string }[];
      expect(tokens).toHaveLength(1);
      expect(tokens[0]!.token_hash).not.toContain(carolToken);
      expect(tokens[0]!.token_hash).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      db.close();
    }
  });

  it("the printed token authenticates against a server on that data directory", async () => {
    expect(carolToken).toMatch(TOKEN);
    server = await spawnServer({ env: { DATA_DIR: join(tmp.dir, 'data') } });
    const ok = await models(server.url, carolToken);
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { models: { name: string }[] };
    expect(body.models.map((m) => m.name)).toContain('preview');
    expect((await models(server.url, `${carolToken}x`)).status).toBe(401);
  });

  it('users add works while the server runs, and the new token works at once', async () => {
    expect(server).toBeDefined();
    const result = await runCli(['users', 'add', 'dave', '--admin'], { env: { DATA_DIR: join(tmp.dir, 'data') } });
    expect(result.code, result.stderr).toBe(0);
    const daveToken = result.stdout.trim();
    expect(daveToken).toMatch(TOKEN);
    expect(daveToken).not.toBe(carolToken);
    expect(result.stderr).toMatch(/admin 'dave'/);
    expect((await models(server!.url, daveToken)).status).toBe(200);
    // --admin made dave an admin: /metrics is admin-only, carol is refused.
    expect((await fetch(`${server!.url}/metrics`, { headers: { authorization: `Bearer ${daveToken}` } })).status).toBe(200);
    expect((await fetch(`${server!.url}/metrics`, { headers: { authorization: `Bearer ${carolToken}` } })).status).toBe(403);
  });

  it('users add carol again fails with a message saying the user exists', async () => {
    const result = await runCli(['users', 'add', 'carol'], { env: { DATA_DIR: join(tmp.dir, 'data') } });
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/carol/);
    expect(result.stderr).toMatch(/already exists/);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    // Still exactly one carol.
    const db = new Database(join(tmp.dir, 'data', 'atelier.db'), { readonly: true });
    try {
      expect(db.prepare(`select count(*) as n from users where name = 'carol'`).get()).toEqual({ n: 1 });
    } finally {
      db.close();
    }
  });

  it('usage errors exit 64 with a usage message and touch nothing', async () => {
    const env = { DATA_DIR: join(tmp.dir, 'unused') };
    // Each CLI start costs most of a second: run the cases side by side.
    const [none, noName, unknownSub, unknownCommand] = await Promise.all([
      runCli(['users'], { env }),
      runCli(['users', 'add'], { env }),
      runCli(['users', 'remove', 'carol'], { env }),
      runCli(['frobnicate'], { env }),
    ]);
    for (const result of [none, noName, unknownSub]) {
      expect(result.code, result.stderr).toBe(64);
      expect(result.stderr).toContain('Usage: atelier users add NAME');
      expect(result.stdout).toBe('');
    }
    expect(unknownCommand.code).toBe(64);
    expect(unknownCommand.stderr).toContain("Unknown command 'frobnicate'");
    expect(unknownCommand.stderr).toContain('atelier users add NAME');
    expect(existsSync(join(tmp.dir, 'unused'))).toBe(false);
  });
});
