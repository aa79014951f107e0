import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readServerSentEvents } from '../../src/cli/sse-client.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { freePort, killAllSpawned, runCli, spawnServer, type SpawnedServer } from '../helpers/spawn-server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const STACK_LINE = /\n\s+at .+[:(]/;

describe('atelier serve', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  let n = 0;
  /** A fresh directory under this file's temp dir. */
  const fresh = async (name: string) => {
    const dir = join(tmp.dir, `${name}-${n++}`);
    await mkdir(dir, { recursive: true });
    return dir;
  };

  beforeAll(async () => {
    tmp = await makeTempDir('atelier-cli-serve-');
  });
  afterAll(async () => {
    await killAllSpawned();
    await tmp?.remove();
  });

  const get = (url: string, token?: string) => fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  describe('banner and defaults', () => {
    let server: SpawnedServer;
    let dataDir: string;
    beforeAll(async () => {
      dataDir = await fresh('data');
      server = await spawnServer({ env: { DATA_DIR: dataDir } });
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('prints the address, the playground URL with a token, and the API token', async () => {
      const out = server.stdout();
      expect(out).toContain(`Atelier is running at http://127.0.0.1:${server.port}`);
      expect(server.token).toMatch(/^atl_[A-Za-z0-9_-]{43}$/);
      expect(out).toContain(`  playground  http://127.0.0.1:${server.port}/?token=${server.token}\n`);
      expect(out).toMatch(new RegExp(`  API token   ${server.token} \\(admin; kept in .*admin-token\\)`));
      expect(out).toContain(`  API docs    http://127.0.0.1:${server.port}/openapi.json`);
      expect(out).toContain('preview (default)');
      // The token is kept in the data directory.
      expect((await readFile(join(dataDir, 'admin-token'), 'utf8')).trim()).toBe(server.token);
    });

    it('the printed token works over HTTP, and nothing works without one', async () => {
      expect((await get(`${server.url}/api/models`, server.token)).status).toBe(200);
      expect((await get(`${server.url}/api/models`)).status).toBe(401);
      expect((await get(`${server.url}/api/models`, 'atl_wrong')).status).toBe(401);
      expect((await get(`${server.url}/readyz`)).status).toBe(200);
    });

    it('the playground URL from the banner loads', async () => {
      const playground = /playground {2}(\S+)/.exec(server.stdout())![1]!;
      const response = await fetch(playground);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/text\/html/);
    });

    it('SIGTERM shuts the server down cleanly with exit code 0', async () => {
      const exit = await server.kill('SIGTERM');
      expect(exit).toEqual({ code: 0, signal: null });
      await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    });
  });

  it('honours ATELIER_ADMIN_TOKEN: the banner shows it and it authenticates', async () => {
    const token = 'my-own-admin-token-0123456789abc';
    expect(token).toHaveLength(32);
    const dataDir = await fresh('admin-token');
    const server = await spawnServer({ env: { DATA_DIR: dataDir, ATELIER_ADMIN_TOKEN: token } });
    try {
      expect(server.token).toBe(token);
      expect(server.stdout()).toContain(`  API token   ${token} (from ATELIER_ADMIN_TOKEN)`);
      expect(server.stdout()).toContain(`/?token=${token}`);
      expect((await get(`${server.url}/api/models`, token)).status).toBe(200);
      // It is an admin token.
      expect((await get(`${server.url}/metrics`, token)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('honours HOST and PORT', async () => {
    const port = await freePort();
    const dataDir = await fresh('host-port');
    // Any 127.x address is loopback on Linux; listening on 127.0.0.2 proves HOST is used.
    const host = process.platform === 'linux' ? '127.0.0.2' : '127.0.0.1';
    const server = await spawnServer({ env: { DATA_DIR: dataDir, HOST: host, PORT: String(port) } });
    try {
      expect(server.port).toBe(port);
      expect(server.stdout()).toContain(`Atelier is running at http://${host}:${port}`);
      expect((await fetch(`http://${host}:${port}/healthz`)).status).toBe(200);
      if (host !== '127.0.0.1') await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    } finally {
      await server.stop();
    }
  });

  it('refuses an invalid PORT, naming port and PORT, without a stack trace', async () => {
    const dataDir = join(tmp.dir, 'never-created');
    const result = await runCli(['serve'], { env: { DATA_DIR: dataDir, PORT: 'abc' } });
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toMatch(/\bport\b/);
    expect(result.stderr).toContain('PORT');
    expect(result.stderr).toContain("'abc'");
    expect(result.stderr).not.toMatch(STACK_LINE);
    expect(result.stdout).not.toContain('Atelier is running');
  });

  it('refuses a port in use, and a PostgreSQL or Redis that does not answer, in one line naming it, without a stack trace', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const closed = await freePort();
    try {
      const cases: [Record<string, string>, RegExp][] = [
        [{ PORT: String((busy.address() as AddressInfo).port) }, /Cannot listen on 127\.0\.0\.1:\d+: the address is already in use.*PORT/],
        [{ PORT: '0', DATABASE_URL: `postgres://postgres@127.0.0.1:${closed}/atelier` }, new RegExp(`Cannot connect to PostgreSQL at DATABASE_URL \\(postgres://postgres@127\\.0\\.0\\.1:${closed}/atelier\\): .*ECONNREFUSED`)],
        [{ PORT: '0', REDIS_URL: `redis://127.0.0.1:${closed}`, REDIS_CONNECT_TIMEOUT_SECONDS: '1' }, /Redis at REDIS_URL \(redis:\/\/127\.0\.0\.1:\d+\) does not answer/],
      ];
      for (const [env, message] of cases) {
        const dataDir = join(tmp.dir, `unreachable-${cases.findIndex(([e]) => e === env)}`);
        const result = await runCli(['serve'], { env: { DATA_DIR: dataDir, ...env } });
        expect(result.code).toBe(1);
        // A port in use is found before anything opens: a second `npm start` on a running
        // server's DATA_DIR (its NODE_ID) must not take back that server's running jobs.
        if (env.PORT !== '0') expect(existsSync(dataDir)).toBe(false);
        expect(result.stderr).toMatch(message);
        expect(result.stderr).not.toMatch(STACK_LINE);
        expect(result.stderr.trim().split('\n')).toHaveLength(1);
      }
    } finally {
      busy.close();
    }
  });

  it('refuses an unknown key in atelier.config.json in the working directory, naming it', async () => {
    const cwd = await fresh('bad-config');
    await writeFile(join(cwd, 'atelier.config.json'), JSON.stringify({ prot: 1 }));
    const result = await runCli(['serve'], { cwd, env: { DATA_DIR: join(cwd, 'data') } });
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toContain("'prot'");
    expect(result.stderr).toContain(join(cwd, 'atelier.config.json'));
    expect(result.stderr).not.toMatch(STACK_LINE);
  });

  describe('a preset with a text watermark', () => {
    const studio = { name: 'studio', normal: { width: 512, height: 512, format: 'jpeg', quality: 80 }, high: { width: 1024, height: 1024, format: 'webp', quality: 80 }, watermark: { text: '© Studio' } };
    /** A working directory whose atelier.config.json makes the studio preset the default. */
    const configured = async (name: string) => {
      const cwd = await fresh(name);
      await writeFile(join(cwd, 'atelier.config.json'), JSON.stringify({ presets: [studio], media: { defaultPreset: 'studio' } }));
      return cwd;
    };

    it('is refused at start-up where fontconfig finds no font, naming the field and the package to install', async () => {
      const cwd = await configured('no-fonts');
      // A fontconfig configuration with no font directory: to Pango, a machine without fonts.
      await writeFile(
        join(cwd, 'fonts.conf'),
        `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n<fontconfig><cachedir>${join(cwd, 'font-cache')}</cachedir></fontconfig>\n`,
      );
      const result = await runCli(['serve'], { cwd, env: { DATA_DIR: join(cwd, 'data'), FONTCONFIG_FILE: join(cwd, 'fonts.conf') } });
      expect(result.code).not.toBe(0);
      expect(result.code).not.toBeNull();
      expect(result.stderr).toContain('presets.studio.watermark.text');
      expect(result.stderr).toContain('fonts-dejavu-core');
      expect(result.stderr).not.toMatch(STACK_LINE);
      expect(result.stdout).not.toContain('Atelier is running');
    });

    it('starts where fontconfig finds one (this machine)', async () => {
      const cwd = await configured('fonts');
      const server = await spawnServer({ cwd, env: { DATA_DIR: join(cwd, 'data') } });
      try {
        expect((await get(`${server.url}/healthz`)).status).toBe(200);
      } finally {
        await server.stop();
      }
    });
  });

  it('uses atelier.config.json from the working directory (port, runner.concurrency), env still winning', async () => {
    const cwd = await fresh('good-config');
    const port = await freePort();
    // concurrency 0: this node accepts jobs but runs none.
    await writeFile(join(cwd, 'atelier.config.json'), JSON.stringify({ port, dataDir: './from-config', runner: { concurrency: 0 } }));
    const server = await spawnServer({ cwd, port, env: {} });
    let runId: string;
    try {
      expect(server.stdout()).toContain(`Atelier is running at http://127.0.0.1:${port}`);
      // dataDir from the file, relative to the working directory.
      expect((await readFile(join(cwd, 'from-config', 'admin-token'), 'utf8')).trim()).toBe(server.token);
      const submit = await fetch(`${server.url}/api/generate/text-to-image`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'a quiet pond', width: 64, height: 64, steps: 2, seed: 3 }),
      });
      expect(submit.status).toBe(202);
      runId = ((await submit.json()) as { runId: string }).runId;
      const status = (await (await get(`${server.url}/api/status/${runId}`, server.token)).json()) as { status: string };
      expect(status.status).toBe('queued');
    } finally {
      // Once stopped, this node can do nothing more with the job; the run's event log (read
      // below) shows whether it ever started it.
      await server.stop();
    }

    // Same directory and file, but RUNNER_CONCURRENCY=1 overrides the file: the job runs.
    const secondStartedAt = Date.now();
    const second = await spawnServer({ cwd, port, env: { RUNNER_CONCURRENCY: '1' } });
    try {
      expect(second.token).toBe(server.token);
      const deadline = Date.now() + 10_000;
      let status = '';
      while (Date.now() < deadline) {
        status = ((await (await get(`${second.url}/api/status/${runId}`, second.token)).json()) as { status: string }).status;
        if (status === 'succeeded' || status === 'failed') break;
        await sleep(100);
      }
      expect(status).toBe('succeeded');
      // Started once, by the second server: the first one never ran it (a run it had started
      // would show a 'running' before the restart, and a retry or a second 'running' after it).
      const stream = await get(`${second.url}/api/status/stream/${runId}`, second.token);
      const events: { type: string; at: number }[] = [];
      for await (const event of readServerSentEvents(stream.body!)) {
        if (event.event !== 'progress') events.push({ type: event.event, at: Date.parse((JSON.parse(event.data) as { at: string }).at) });
      }
      expect(events.map((e) => e.type)).toEqual(['queued', 'running', 'succeeded']);
      expect(events[1]!.at).toBeGreaterThanOrEqual(secondStartedAt);
    } finally {
      await second.stop();
    }
  });

  it('runs two servers side by side on different data directories and ports', async () => {
    const [a, b] = await Promise.all([
      spawnServer({ env: { DATA_DIR: await fresh('side-a') } }),
      spawnServer({ env: { DATA_DIR: await fresh('side-b') } }),
    ]);
    try {
      expect(a.port).not.toBe(b.port);
      expect((await get(`${a.url}/healthz`)).status).toBe(200);
      expect((await get(`${b.url}/healthz`)).status).toBe(200);
      expect(a.token).toMatch(/^atl_/);
      expect(b.token).toMatch(/^atl_/);
      expect(a.token).not.toBe(b.token);
      // Each server only knows its own users.
      expect((await get(`${a.url}/api/models`, a.token)).status).toBe(200);
      expect((await get(`${b.url}/api/models`, b.token)).status).toBe(200);
      expect((await get(`${a.url}/api/models`, b.token)).status).toBe(401);
      expect((await get(`${b.url}/api/models`, a.token)).status).toBe(401);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
