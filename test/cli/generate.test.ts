import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/temp-dir.js';
import { freePort, killAllSpawned, runCli, type CliResult } from '../helpers/spawn-server.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** A stack trace line as V8 prints it. */
const STACK_LINE = /\n\s+at .+[:(]/;

describe('atelier generate', () => {
  let t: TestServer;
  let out: { dir: string; remove: () => Promise<void> };
  let result: CliResult;
  let fromEnv: CliResult;

  beforeAll(async () => {
    t = await startTestServer();
    out = await makeTempDir('atelier-cli-generate-');
    // Each CLI start costs most of a second: run independent invocations side by side.
    [result, fromEnv] = await Promise.all([
      runCli(
        ['generate', 'a castle on a hill', '--steps', '4', '--seed', '5', '--size', '320x256', '--num-images', '2', '--out', join(out.dir, 'images'), '--server', t.url, '--token', t.adminToken],
        { timeoutMs: 30_000 },
      ),
      runCli(['generate', 'a small boat', '--steps', '2', '--size', '64x64', '--out', join(out.dir, 'from-env')], {
        env: { ATELIER_TOKEN: t.adminToken, ATELIER_SERVER: t.url },
        timeoutMs: 30_000,
      }),
    ]);
  });
  afterAll(async () => {
    await killAllSpawned();
    await t?.close();
    await out?.remove();
  });

  it('exits 0 and lists one existing file per image on stdout', async () => {
    expect(result.code, result.stderr).toBe(0);
    const files = result.stdout.trim().split('\n');
    expect(files).toHaveLength(2);
    for (const file of files) {
      expect(isAbsolute(file)).toBe(true);
      expect(file.startsWith(join(out.dir, 'images'))).toBe(true);
      expect(existsSync(file)).toBe(true);
    }
    // --out was created and holds exactly those files.
    expect((await readdir(join(out.dir, 'images'))).sort()).toEqual(files.map((f) => f.slice(f.lastIndexOf('/') + 1)).sort());
  });

  it('writes 320x256 PNGs whose parameters chunk carries seeds 5 and 6', async () => {
    const files = result.stdout.trim().split('\n');
    expect(files).toHaveLength(2);
    const seeds: string[] = [];
    for (const file of files) {
      const decoded = await sharp(file).raw().toBuffer({ resolveWithObject: true });
      expect([decoded.info.width, decoded.info.height]).toEqual([320, 256]);
      const meta = await sharp(file).metadata();
      expect(meta.format).toBe('png');
      const parameters = meta.comments?.find((c) => c.keyword === 'parameters')?.text;
      expect(parameters, file).toBeDefined();
      expect(parameters).toContain('a castle on a hill');
      expect(parameters).toContain('Steps: 4');
      expect(parameters).toContain('Size: 320x256');
      seeds.push(/Seed: (\d+)/.exec(parameters!)![1]!);
    }
    expect(seeds).toEqual(['5', '6']);
  });

  it('shows the run and its progress on stderr, up to 100%', () => {
    expect(result.stderr).toMatch(/Run [0-9a-f-]{36} queued \(seed 5,/);
    expect(result.stderr).toContain('100%');
    expect(result.stderr).toContain('(8/8)'); // 4 steps × 2 images
    expect(result.stderr).toMatch(/Run [0-9a-f-]{36} succeeded/);
    // Progress and chatter stay off stdout, which is only the file list.
    expect(result.stdout).not.toContain('%');
  });

  it('reads the token and server from ATELIER_TOKEN / ATELIER_SERVER', async () => {
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    const files = fromEnv.stdout.trim().split('\n');
    expect(files).toHaveLength(1);
    expect(files[0]!.startsWith(join(out.dir, 'from-env'))).toBe(true);
    const meta = await sharp(files[0]!).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 64, 64]);
  });

  describe('failures', () => {
    let badToken: CliResult, unreachable: CliResult, rejected: CliResult, noPrompt: CliResult, noToken: CliResult, badSize: CliResult, badSteps: CliResult;
    let unreachablePort: number;

    beforeAll(async () => {
      unreachablePort = await freePort(); // nothing listens there any more
      const env = { ATELIER_TOKEN: t.adminToken };
      [badToken, unreachable, rejected, noPrompt, noToken, badSize, badSteps] = await Promise.all([
        runCli(['generate', 'a castle', '--steps', '2', '--out', join(out.dir, 'bad'), '--server', t.url, '--token', 'atl_not-a-real-token']),
        runCli(['generate', 'a castle', '--server', `http://127.0.0.1:${unreachablePort}`, '--token', t.adminToken]),
        runCli(['generate', 'a castle', '--size', '100x100', '--server', t.url, '--token', t.adminToken]),
        runCli(['generate', '--server', t.url], { env }),
        runCli(['generate', 'a castle', '--server', t.url]),
        runCli(['generate', 'a castle', '--size', 'big', '--server', t.url], { env }),
        runCli(['generate', 'a castle', '--steps', 'many', '--server', t.url], { env }),
      ]);
    });

    it('a bad token exits non-zero with a readable message and no stack trace', () => {
      expect(badToken.code).not.toBe(0);
      expect(badToken.code).not.toBeNull();
      expect(badToken.stdout).toBe('');
      expect(badToken.stderr).toMatch(/token is not valid/i);
      expect(badToken.stderr).not.toMatch(STACK_LINE);
      expect(existsSync(join(out.dir, 'bad'))).toBe(false);
    });

    it('an unreachable server exits non-zero with a message naming it and no stack trace', () => {
      expect(unreachable.code).not.toBe(0);
      expect(unreachable.code).not.toBeNull();
      expect(unreachable.stderr).toContain(`127.0.0.1:${unreachablePort}`);
      expect(unreachable.stderr).not.toMatch(STACK_LINE);
    });

    it("a request the server rejects reports the server's message and code", () => {
      expect(rejected.code).not.toBe(0);
      expect(rejected.stderr).toMatch(/multiple of 8/);
      expect(rejected.stderr).toContain('invalid_parameter');
    });

    it('usage errors exit 64: no prompt, no token, malformed flags', () => {
      expect(noPrompt.code, noPrompt.stderr).toBe(64);
      expect(noPrompt.stderr).toContain('Usage: atelier generate "PROMPT"');
      expect(noToken.code).toBe(64);
      expect(noToken.stderr).toMatch(/token is required/);
      expect(badSize.code).toBe(64);
      expect(badSize.stderr).toContain("WIDTHxHEIGHT for --size but received 'big'");
      expect(badSteps.code).toBe(64);
      expect(badSteps.stderr).toContain("integer for --steps but received 'many'");
      for (const r of [noPrompt, noToken, badSize, badSteps]) {
        expect(r.stdout).toBe('');
        expect(r.stderr).not.toMatch(STACK_LINE);
      }
    });
  });
});
