import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testSchema } from '../helpers/postgres.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { killAllSpawned, runCli, spawnServer, type SpawnedServer } from '../helpers/spawn-server.js';

const TOKEN = /^atl_[A-Za-z0-9_-]{43}$/;

describe('atelier users', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  let carolToken: string;
  let server: SpawnedServer | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    tmp = await makeTempDir('atelier-cli-users-');
    env = { DATA_DIR: join(tmp.dir, 'data') };
  });
  afterAll(async () => {
    await killAllSpawned();
    await tmp?.remove();
  });

  const models = (url: string, token: string) => fetch(`${url}/api/models`, { headers: { authorization: `Bearer ${token}` } });
  const cli = (...args: string[]) => runCli(['users', ...args], { env });

  it('users add carol creates the database, names it, and prints only the token on stdout', async () => {
    const dataDir = join(tmp.dir, 'data');
    expect(existsSync(dataDir)).toBe(false);
    const result = await cli('add', 'carol');
    expect(result.code, result.stderr).toBe(0);
    carolToken = result.stdout.trim();
    expect(carolToken).toMatch(TOKEN);
    expect(result.stdout).toBe(`${carolToken}\n`);
    expect(result.stderr).toContain("'carol'");
    expect(result.stderr).toContain(`Using the database SQLite ${join(dataDir, 'atelier.db')}`);
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

  it('the printed token authenticates against a server on that data directory', async () => {
    expect(carolToken).toMatch(TOKEN);
    server = await spawnServer({ env });
    const ok = await models(server.url, carolToken);
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { models: { name: string }[] };
    expect(body.models.map((m) => m.name)).toContain('preview');
    expect((await models(server.url, `${carolToken}x`)).status).toBe(401);
  });

  it('options go anywhere: --admin before the name works as after it; the new token works at once', async () => {
    expect(server).toBeDefined();
    const [dave, erin] = await Promise.all([cli('add', 'dave', '--admin'), cli('--admin', 'add', 'erin')]);
    for (const result of [dave, erin]) {
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.trim()).toMatch(TOKEN);
    }
    expect(dave.stderr).toMatch(/admin 'dave'/);
    expect(erin.stderr).toMatch(/admin 'erin'/);
    const daveToken = dave.stdout.trim();
    expect((await models(server!.url, daveToken)).status).toBe(200);
    // --admin made dave an admin: /metrics is admin-only, carol is refused.
    expect((await fetch(`${server!.url}/metrics`, { headers: { authorization: `Bearer ${daveToken}` } })).status).toBe(200);
    expect((await fetch(`${server!.url}/metrics`, { headers: { authorization: `Bearer ${carolToken}` } })).status).toBe(403);
  });

  it('users list shows every user with its role, id and token count, and never a token', async () => {
    const result = await cli('list');
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    const pairs = lines.map((line) => line.split('\t').slice(0, 2)).sort(([a], [b]) => a!.localeCompare(b!));
    // The server created `admin` at its first start; the others were added here.
    expect(pairs).toEqual([
      ['admin', 'admin'],
      ['carol', 'user'],
      ['dave', 'admin'],
      ['erin', 'admin'],
    ]);
    expect(lines[0]).toMatch(/^carol\t/); // oldest first
    expect(lines.find((l) => l.startsWith('carol\t'))).toMatch(/^carol\tuser\t[0-9a-f-]{36}\t1 token\tcreated \d{4}-\d\d-\d\dT/);
    expect(result.stdout).not.toContain('atl_');
  });

  it('users token NAME prints another token; --rotate revokes the others at once, on the running server', async () => {
    const added = await cli('token', 'carol');
    expect(added.code, added.stderr).toBe(0);
    const second = added.stdout.trim();
    expect(second).toMatch(TOKEN);
    expect(added.stderr).toContain("'carol'");
    expect((await models(server!.url, second)).status).toBe(200);
    expect((await models(server!.url, carolToken)).status).toBe(200);

    const rotated = await cli('--rotate', 'token', 'carol');
    expect(rotated.code, rotated.stderr).toBe(0);
    const third = rotated.stdout.trim();
    expect(third).toMatch(TOKEN);
    expect(rotated.stderr).toContain('2 earlier tokens revoked');
    // Tokens are checked in the database on every request: no cache to wait out.
    expect((await models(server!.url, carolToken)).status).toBe(401);
    expect((await models(server!.url, second)).status).toBe(401);
    expect((await models(server!.url, third)).status).toBe(200);
    carolToken = third;
  });

  it('users remove NAME revokes its tokens at once and keeps its runs; the name can be used again', async () => {
    const run = await fetch(`${server!.url}/api/generate/text-to-image`, {
      method: 'POST',
      headers: { authorization: `Bearer ${carolToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'carol was here', width: 64, height: 64, steps: 2 }),
    });
    expect(run.status).toBe(202);
    const runId = ((await run.json()) as { runId: string }).runId;
    const carolId = ((await (await fetch(`${server!.url}/api/me`, { headers: { authorization: `Bearer ${carolToken}` } })).json()) as { id: string }).id;

    const removed = await cli('remove', 'carol');
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stderr).toMatch(/Removed user 'carol'/);
    expect((await models(server!.url, carolToken)).status).toBe(401);
    // Her run stays: an admin still finds it.
    const dave = (await cli('token', 'dave')).stdout.trim();
    const status = await fetch(`${server!.url}/api/status/${runId}`, { headers: { authorization: `Bearer ${dave}` } });
    expect(status.status).toBe(200);
    const listed = (await (await fetch(`${server!.url}/api/runs?user=${carolId}`, { headers: { authorization: `Bearer ${dave}` } })).json()) as { runs: { runId: string }[] };
    expect(listed.runs.map((r) => r.runId)).toEqual([runId]);
    expect((await cli('list')).stdout).not.toMatch(/^carol\t/m);

    const again = await cli('remove', 'carol');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("No user named 'carol'");
    const newCarol = await cli('add', 'carol');
    expect(newCarol.code, newCarol.stderr).toBe(0);
    expect((await models(server!.url, newCarol.stdout.trim())).status).toBe(200);
  });

  it('refuses to remove the last admin', async () => {
    // A fresh database with a single admin.
    const solo = { DATA_DIR: join(tmp.dir, 'solo') };
    expect((await runCli(['users', 'add', 'root', '--admin'], { env: solo })).code).toBe(0);
    const refused = await runCli(['users', 'remove', 'root'], { env: solo });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/'root' is the last admin/);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect((await runCli(['users', 'list'], { env: solo })).stdout).toMatch(/^root\tadmin\t/m);
  });

  it('users add carol again fails with a message saying the user exists', async () => {
    const result = await cli('add', 'carol');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/carol/);
    expect(result.stderr).toMatch(/already exists/);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('usage errors exit 64 with the usage and touch nothing; --help prints it and exits 0', async () => {
    const unused = { DATA_DIR: join(tmp.dir, 'unused') };
    const cases = [['users'], ['users', 'add'], ['users', 'frobnicate'], ['users', 'add', 'x', '--root'], ['users', 'list', '--admin'], ['users', 'remove', 'x', '--rotate'], ['users', 'add', 'x', 'y'], ['users', 'token']];
    // Each CLI start costs most of a second: run the cases side by side.
    const results = await Promise.all(cases.map((args) => runCli(args, { env: unused })));
    for (const [i, result] of results.entries()) {
      expect(result.code, `${cases[i]!.join(' ')}: ${result.stderr}`).toBe(64);
      expect(result.stderr).toContain('Usage: atelier users list | add NAME [--admin] | remove NAME | token NAME [--rotate]');
      expect(result.stdout).toBe('');
    }
    expect(results[3]!.stderr).toMatch(/--root/);
    const help = await Promise.all([runCli(['users', '--help'], { env: unused }), runCli(['users', 'token', 'x', '-h'], { env: unused })]);
    for (const result of help) {
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Usage: atelier users list');
      expect(result.stdout).toContain('--rotate');
    }
    expect(existsSync(join(tmp.dir, 'unused'))).toBe(false);
  });

  it('finds the database as `atelier serve` does: atelier.config.json in the working directory', async () => {
    const cwd = join(tmp.dir, 'configured');
    await mkdir(cwd);
    await writeFile(join(cwd, 'atelier.config.json'), JSON.stringify({ dataDir: './state' }));
    const result = await runCli(['users', 'add', 'frank'], { cwd, env: {} });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`Using the database SQLite ${join(cwd, 'state', 'atelier.db')}`);
    expect(existsSync(join(cwd, 'state', 'atelier.db'))).toBe(true);
  });

  it('works on PostgreSQL (DATABASE_URL), naming it without its password', async () => {
    const schema = testSchema();
    try {
      const pg = { DATA_DIR: join(tmp.dir, 'pg-data'), DATABASE_URL: schema.url };
      const added = await runCli(['users', 'add', 'gina', '--admin'], { env: pg });
      expect(added.code, added.stderr).toBe(0);
      expect(added.stderr).toContain('Using the database PostgreSQL');
      const [other, listed] = await Promise.all([runCli(['users', 'add', 'hal'], { env: pg }), runCli(['users', 'list'], { env: pg })]);
      expect(other.code, other.stderr).toBe(0);
      expect(listed.stdout).toMatch(/^gina\tadmin\t/m);
      expect((await runCli(['users', 'token', 'hal', '--rotate'], { env: pg })).stderr).toContain('1 earlier token revoked');
      expect((await runCli(['users', 'remove', 'gina'], { env: pg })).stderr).toMatch(/'gina' is the last admin/);
      expect((await runCli(['users', 'remove', 'hal'], { env: pg })).code).toBe(0);
      expect((await runCli(['users', 'list'], { env: pg })).stdout).toMatch(/^gina\tadmin\t[^\n]*\n$/);
    } finally {
      await schema.drop();
    }
  });
});
