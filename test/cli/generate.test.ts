import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeVideo } from '../../src/media/video/probe-video.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { CLI_PATH, childEnv, freePort, killAllSpawned, REPO_ROOT, runCli, type CliResult } from '../helpers/spawn-server.js';
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
    // The workspace copy expires: the CLI says when.
    expect(result.stderr).toMatch(/keeps these in your workspace until \d{4}-\d\d-\d\dT/);
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

  describe('every option reaches the request', () => {
    const runOf = async (r: CliResult) => {
      const runId = /Run ([0-9a-f-]{36}) queued/.exec(r.stderr)?.[1];
      expect(runId, r.stderr).toBeDefined();
      const response = await fetch(`${t.url}/api/status/${runId}`, { headers: { authorization: `Bearer ${t.adminToken}` } });
      return (await response.json()) as { mode: string; model: string; parameters: Record<string, unknown>; assets: { contentType: string }[] };
    };
    let t2i: CliResult, i2i: CliResult, t2v: CliResult, i2v: CliResult, reference: string;

    beforeAll(async () => {
      reference = join(out.dir, 'reference.png');
      await writeFile(reference, await sharp({ create: { width: 96, height: 64, channels: 3, background: '#c03020' } }).png().toBuffer());
      const common = ['--server', t.url, '--token', t.adminToken];
      [t2i, i2i, t2v, i2v] = await Promise.all([
        runCli(['generate', '--negative', 'fog', 'a red fox', '--cfg', '9.5', '--sampler', 'Euler a', '--aspect-ratio', '16:9', '--model', 'preview', '--steps', '2', '--seed', '8', '--hires-fix', '--out', join(out.dir, 'opt-t2i'), ...common], { timeoutMs: 60_000 }),
        runCli(['generate', 'the same in winter', '--ref', reference, '--denoise', '0.4', '--size', '96x64', '--steps', '3', '--out', join(out.dir, 'opt-i2i'), ...common], { timeoutMs: 60_000 }),
        runCli(['generate', 'waves rolling in', '--mode', 't2v', '--frames', '5', '--fps', '10', '--size', '64x64', '--steps', '2', '--out', join(out.dir, 'opt-t2v'), ...common], { timeoutMs: 60_000 }),
        runCli(['generate', '--mode', 'i2v', '--start', reference, '--frames', '4', '--size', '96x64', '--out', join(out.dir, 'opt-i2v'), ...common], { timeoutMs: 60_000 }),
      ]);
    });

    it('--model --negative --cfg --sampler --aspect-ratio --hires-fix go into a text-to-image run', async () => {
      expect(t2i.code, t2i.stderr).toBe(0);
      const run = await runOf(t2i);
      expect(run).toMatchObject({ mode: 't2i', model: 'preview' });
      expect(run.parameters).toMatchObject({ prompt: 'a red fox', negativePrompt: 'fog', cfgScale: 9.5, sampler: 'Euler a', seed: 8, steps: 2, width: 1344, height: 768, hiresFix: true });
      expect(t2i.stderr).toContain('(4/4)'); // hires fix: two passes of 2 steps
      const meta = await sharp(t2i.stdout.trim()).metadata();
      expect([meta.width, meta.height]).toEqual([1344, 768]);
    });

    it('--ref FILE uploads the reference and runs image-to-image (--mode i2i implied)', async () => {
      expect(i2i.code, i2i.stderr).toBe(0);
      const run = await runOf(i2i);
      expect(run.mode).toBe('i2i');
      expect(run.parameters).toMatchObject({ denoiseStrength: 0.4, referenceImage: { width: 96, height: 64, format: 'png' } });
      const meta = await sharp(i2i.stdout.trim()).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 96, 64]);
    });

    it('--mode t2v --frames --fps writes an MP4 without --model (the default video model)', async () => {
      expect(t2v.code, t2v.stderr).toBe(0);
      const file = t2v.stdout.trim();
      expect(file).toMatch(/\.mp4$/);
      const run = await runOf(t2v);
      expect(run).toMatchObject({ mode: 't2v', model: 'preview-t2v', parameters: { numFrames: 5, fps: 10 } });
      const probe = await probeVideo(file);
      expect([probe.codec, probe.width, probe.height, probe.frame_count]).toEqual(['h264', 64, 64, 5]);
    });

    it('--mode i2v --start FILE animates the start image', async () => {
      expect(i2v.code, i2v.stderr).toBe(0);
      const run = await runOf(i2v);
      expect(run).toMatchObject({ mode: 'i2v', parameters: { numFrames: 4, startImage: { width: 96, height: 64 } } });
      expect(i2v.stdout.trim()).toMatch(/\.mp4$/);
    });

    it('refuses options that do not apply to the mode, and a mode without its input, with exit 64', async () => {
      const env = { ATELIER_TOKEN: t.adminToken, ATELIER_SERVER: t.url };
      const results = await Promise.all([
        runCli(['generate', 'a fox', '--frames', '10'], { env }),
        runCli(['generate', 'a fox', '--mode', 'i2i'], { env }),
        runCli(['generate', 'a fox', '--mode', 't2v', '--num-images', '2'], { env }),
        runCli(['generate', 'a fox', '--mode', 'i2v'], { env }),
        runCli(['generate', 'a fox', '--mode', 'upscale'], { env }),
        runCli(['generate', 'a fox', '--cfg', 'high'], { env }),
        runCli(['generate', 'a fox', '--ref', 'x.png', '--hires-fix'], { env }),
      ]);
      expect(results.map((r) => r.code)).toEqual([64, 64, 64, 64, 64, 64, 64]);
      expect(results[6]!.stderr).toContain('--hires-fix applies to --mode t2i, not i2i');
      expect(results[0]!.stderr).toContain('--frames applies to --mode t2v or i2v, not t2i');
      expect(results[1]!.stderr).toContain('--ref FILE');
      expect(results[3]!.stderr).toContain('--start FILE');
      expect(results[5]!.stderr).toContain("Expected a number for --cfg but received 'high'");
      for (const r of results) expect(r.stderr).not.toMatch(STACK_LINE);
    });
  });

  describe('--out is checked before anything is sent', () => {
    it('a file, or a path under a file, exits 73 without contacting the server', async () => {
      const file = join(out.dir, 'a-file');
      await writeFile(file, 'not a directory');
      // The server is unreachable: had the CLI tried it, the error would say so.
      const nowhere = `http://127.0.0.1:${await freePort()}`;
      const [plain, under] = await Promise.all([
        runCli(['generate', 'a castle', '--out', file, '--server', nowhere, '--token', t.adminToken]),
        runCli(['generate', 'a castle', '--out', join(file, 'images'), '--server', nowhere, '--token', t.adminToken]),
      ]);
      for (const r of [plain, under]) {
        expect(r.code, r.stderr).toBe(73);
        expect(r.stderr).toContain(`${file} is not a directory`);
        expect(r.stderr).not.toContain('Cannot reach');
        expect(r.stderr).not.toMatch(STACK_LINE);
      }
    });

    it.skipIf(process.getuid?.() === 0)('a directory without write permission exits 73', async () => {
      const locked = join(out.dir, 'locked');
      await mkdir(locked);
      await chmod(locked, 0o500);
      const r = await runCli(['generate', 'a castle', '--out', join(locked, 'images'), '--server', t.url, '--token', t.adminToken]);
      expect(r.code, r.stderr).toBe(73);
      expect(r.stderr).toContain(`${locked} is not writable`);
    });
  });

  it('Ctrl-C cancels the run on the server and exits 130', { timeout: 60_000 }, async () => {
    const dir = join(out.dir, 'interrupted');
    // Large and long, so it is still rendering when the signal comes.
    const args = ['generate', 'a very long render', '--size', '2048x2048', '--steps', '150', '--num-images', '8', '--out', dir, '--server', t.url, '--token', t.adminToken];
    const child = spawn(process.execPath, [CLI_PATH, ...args], { cwd: REPO_ROOT, env: childEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const rendering = new Promise<void>((resolve) =>
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        if (/Generating \d+%/.test(stderr)) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    await Promise.race([rendering, exited]);
    const runId = /Run ([0-9a-f-]{36}) queued/.exec(stderr)?.[1];
    expect(runId, stderr).toBeDefined();
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(130);
    expect(stderr).toContain(`Run ${runId} canceled on the server`);
    const run = (await (await fetch(`${t.url}/api/status/${runId}`, { headers: { authorization: `Bearer ${t.adminToken}` } })).json()) as { status: string };
    expect(run.status).toBe('canceled');
    expect(existsSync(dir)).toBe(false);
  });
});

