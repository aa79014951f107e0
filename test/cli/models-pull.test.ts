import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PullError } from '../../src/models-pull/pull-errors.js';
import { pullModel, type PullModelOptions } from '../../src/models-pull/pull-model.js';
import type { ResolvedAddress } from '../../src/net/safe-request.js';
import { startRangeFileServer, type RangeFileServer, type ServedFile } from '../helpers/range-file-server.js';
import { childEnv, CLI_PATH, killAllSpawned, runCli } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const MiB = 1024 * 1024;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const model = (etag = '"v1"'): ServedFile => ({ bytes: randomBytes(4 * MiB), etag, lastModified: 'Tue, 02 Dec 2025 10:00:00 GMT' });

let dir: string;
let removeDir: () => Promise<void>;
const servers: RangeFileServer[] = [];

async function server(file: ServedFile, options?: { honourRange?: boolean }): Promise<RangeFileServer> {
  const started = await startRangeFileServer(file, options);
  servers.push(started);
  return started;
}

/** `atelier models pull URL --dest <dir> --allow-private …` through the built CLI. */
function pull(url: string, ...args: string[]) {
  return runCli(['models', 'pull', url, '--dest', dir, '--allow-private', ...args], { cwd: dir, timeoutMs: 30_000 });
}

const files = async () => (await readdir(dir)).sort();

/**
 * The module API in-process (no CLI start-up on a shared machine), for behaviour that the
 * command only passes through; a short backoff keeps retries quick.
 */
async function pullHere(url: string, options: Partial<PullModelOptions> = {}) {
  const notes: string[] = [];
  const outcome = await pullModel({ url, dir, name: 'model.bin', allowPrivate: true, backoff: { baseMs: 20, maxMs: 5000 }, onNote: (n) => notes.push(n), ...options }).then(
    (result) => ({ result, error: undefined }),
    (error: unknown) => ({ result: undefined, error }),
  );
  return { ...outcome, notes: notes.join('\n') };
}

beforeEach(async () => {
  ({ dir, remove: removeDir } = await makeTempDir('atelier-models-pull-'));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await removeDir();
});
afterAll(killAllSpawned);

describe('atelier models pull: the command line', () => {
  it('answers --help with its usage and exit 0, and refuses unknown options, a missing URL and a bad checksum with 64', async () => {
    const help = await runCli(['models', 'pull', '--help']);
    expect([help.code, help.stdout]).toEqual([0, expect.stringContaining('Usage: atelier models pull URL')]);
    expect(help.stdout).toContain('--min-free');

    const unknown = await runCli(['models', 'pull', 'http://example.com/a.bin', '--dest', dir, '--resume-from', '5']);
    expect([unknown.code, unknown.stderr]).toEqual([64, expect.stringContaining("Unknown option '--resume-from'")]);
    expect((await runCli(['models', 'pull', '--dest', dir])).code).toBe(64);
    const badSum = await runCli(['models', 'pull', 'http://example.com/a.bin', '--dest', dir, '--sha256', 'abc']);
    expect([badSum.code, badSum.stderr]).toEqual([64, expect.stringContaining('Expected 64 hexadecimal digits for --sha256')]);
    expect(await files()).toEqual([]);
  });

  it('needs --dest or modelsDir, and saves into modelsDir from the configuration', async () => {
    const file = model();
    const origin = (await server(file)).origin;
    const noDest = await runCli(['models', 'pull', `${origin}/m/sd.safetensors`, '--allow-private'], { cwd: dir });
    expect([noDest.code, noDest.stderr]).toEqual([64, expect.stringContaining('modelsDir')]);

    await writeFile(join(dir, 'atelier.config.json'), JSON.stringify({ modelsDir: 'checkpoints' }));
    const result = await runCli(['models', 'pull', `${origin}/m/sd.safetensors?download=true`, '--allow-private'], { cwd: dir, timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(join(dir, 'checkpoints', 'sd.safetensors'));
    expect(sha256(await readFile(join(dir, 'checkpoints', 'sd.safetensors')))).toBe(sha256(file.bytes));
    expect((await readdir(join(dir, 'checkpoints'))).sort()).toEqual(['sd.safetensors']);
  });
});

describe('atelier models pull: resuming', () => {
  it('resumes with Range and If-Range after the server drops the connection mid-file; bytes identical, SHA-256 verified', async () => {
    const file = model();
    const host = await server(file);
    host.fault({ kind: 'drop', after: 1.5 * MiB });
    const result = await pull(`${host.origin}/model.bin`, '--sha256', sha256(file.bytes));
    expect(result.code, result.stderr).toBe(0);
    expect(sha256(await readFile(join(dir, 'model.bin')))).toBe(sha256(file.bytes));
    expect(await files()).toEqual(['model.bin']);
    expect(host.requests).toHaveLength(2);
    const resumed = host.requests[1]!;
    const from = Number(/^bytes=(\d+)-$/.exec(resumed.range ?? '')?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(1.5 * MiB);
    expect([resumed.ifRange, resumed.status]).toEqual(['"v1"', 206]);
    expect(result.stderr).toMatch(/connection (broke|closed).*retrying in/);
    expect(result.stderr).toContain('SHA-256 verified');
  });

  it('uses Last-Modified as the If-Range validator when there is no ETag', async () => {
    const file = { ...model(), etag: undefined };
    const host = await server(file);
    host.fault({ kind: 'drop', after: MiB });
    const { error } = await pullHere(`${host.origin}/model.bin`);
    expect(error).toBeUndefined();
    expect(sha256(await readFile(join(dir, 'model.bin')))).toBe(sha256(file.bytes));
    expect([host.requests[1]?.ifRange, host.requests[1]?.status]).toEqual([file.lastModified, 206]);
  });

  it('starts over, and still gets the file right, from a server that ignores Range', async () => {
    const file = model();
    const host = await server(file, { honourRange: false });
    host.fault({ kind: 'drop', after: 1.5 * MiB });
    const { error, notes } = await pullHere(`${host.origin}/model.bin`, { sha256: sha256(file.bytes) });
    expect(error).toBeUndefined();
    expect(host.requests.map((r) => [r.range !== undefined, r.status])).toEqual([
      [false, 200],
      [true, 200],
    ]);
    expect(notes).toContain('The server does not resume downloads (it ignored the Range request); starting over');
    expect(sha256(await readFile(join(dir, 'model.bin')))).toBe(sha256(file.bytes));
    expect(await files()).toEqual(['model.bin']);
  });

  it('starts over when the file changed on the server between attempts (If-Range → 200)', async () => {
    const v1 = model('"v1"');
    const v2 = model('"v2"');
    const host = await server(v1);
    host.fault({ kind: 'drop', after: 1.5 * MiB, then: () => host.serve(v2) });
    const { error, notes } = await pullHere(`${host.origin}/model.bin`, { sha256: sha256(v2.bytes) });
    expect(error).toBeUndefined();
    expect([host.requests[1]?.range, host.requests[1]?.ifRange, host.requests[1]?.status]).toEqual([expect.stringMatching(/^bytes=[1-9]/), '"v1"', 200]);
    expect(notes).toContain('The file changed on the server since the download began; starting over');
    expect(sha256(await readFile(join(dir, 'model.bin')))).toBe(sha256(v2.bytes));
  });

  it('Ctrl-C keeps the partial file and its metadata (exit 130); the re-run resumes to identical bytes', async () => {
    const file = model();
    const host = await server(file);
    const pauseAt = 2 * MiB;
    host.fault({ kind: 'pause', after: pauseAt });
    const url = `${host.origin}/model.bin`;
    const child = spawn(process.execPath, [CLI_PATH, 'models', 'pull', url, '--dest', dir, '--allow-private'], { cwd: dir, env: childEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // The server holds the rest back, so the partial file stops at exactly pauseAt bytes.
      await vi.waitFor(async () => expect((await stat(join(dir, 'model.bin.partial'))).size).toBe(pauseAt), { timeout: 20_000, interval: 20 });
      child.kill('SIGINT');
      expect(await exited, stderr).toBe(130);
    } finally {
      child.kill('SIGKILL');
    }
    expect(stderr).toContain('run the same command again to resume');
    expect(await files()).toEqual(['model.bin.partial', 'model.bin.partial.json']);
    expect(JSON.parse(await readFile(join(dir, 'model.bin.partial.json'), 'utf8'))).toMatchObject({ url, etag: '"v1"', total: file.bytes.length });

    host.release();
    // --sha256 on the re-run: the 2 MiB already there are hashed first, then the rest as it arrives.
    const rerun = await pull(url, '--sha256', sha256(file.bytes));
    expect(rerun.code, rerun.stderr).toBe(0);
    expect([host.requests[1]?.range, host.requests[1]?.ifRange, host.requests[1]?.status]).toEqual([`bytes=${pauseAt}-`, '"v1"', 206]);
    expect(rerun.stderr).toContain('Resuming');
    expect(sha256(await readFile(join(dir, 'model.bin')))).toBe(sha256(file.bytes));
    expect(await files()).toEqual(['model.bin']);
  });
});

describe('atelier models pull: refusals', () => {
  it('deletes the download and exits 1 on a SHA-256 mismatch; no final file, no partial left', async () => {
    const host = await server(model());
    const result = await pull(`${host.origin}/model.bin`, '--sha256', '0'.repeat(64));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('SHA-256 mismatch');
    expect(await files()).toEqual([]);
  });

  it('refuses to start when the disk would keep less than --min-free, before writing anything', async () => {
    const host = await server(model());
    // More than any test machine has free: the disk is "full" for this download.
    const result = await pull(`${host.origin}/model.bin`, '--min-free', '1000T');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Not enough free space in .*: the download needs 4\.0 MiB more, .* is free and .* must stay free \(--min-free\)/);
    expect(await files()).toEqual([]);
    expect(host.requests).toHaveLength(1);
  });

  it('fails at once on a 404, without retrying', async () => {
    const host = await server(model());
    host.fault({ kind: 'status', status: 404 });
    const { error } = await pullHere(`${host.origin}/missing.bin`);
    expect(error).toBeInstanceOf(PullError);
    expect((error as Error).message).toContain('HTTP 404');
    expect(host.requests).toHaveLength(1);
    expect(await files()).toEqual([]);
  });

  it('refuses a loopback URL without --allow-private, never connecting to it', async () => {
    const host = await server(model());
    const result = await runCli(['models', 'pull', `${host.origin}/model.bin`, '--dest', dir], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('not a public address');
    expect(result.stderr).toContain('--allow-private');
    expect(host.requests).toHaveLength(0);
  });

  it('refuses a redirect to a private address: the redirect target is never contacted', async () => {
    const file = model();
    const [entry, internal] = [await server(file), await server(file)];
    // models.example.net looks public but resolves to loopback; only the entry server is exempt.
    const lookup = vi.fn(async (): Promise<ResolvedAddress[]> => [{ address: '127.0.0.1', family: 4 }]);
    const url = `${entry.origin}/redirect?to=${encodeURIComponent(`http://models.example.net:${internal.port}/model.bin`)}`;
    const error = await pullModel({ url, dir, name: 'model.bin', lookup, unsafeAllowDestinations: [entry.destination], retries: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PullError);
    expect((error as Error).message).toMatch(/models\.example\.net resolves to 127\.0\.0\.1, which is not a public address.*--allow-private/);
    expect(lookup).toHaveBeenCalledWith('models.example.net');
    expect(entry.requests.map((r) => r.path)).toEqual(['/redirect']);
    expect(internal.requests).toHaveLength(0);
    expect(await files()).toEqual([]);
  });

  it('follows a redirect to a private address with --allow-private (a local mirror)', async () => {
    const file = model();
    const [entry, mirror] = [await server(file), await server(file)];
    const result = await pull(`${entry.origin}/redirect?to=${encodeURIComponent(`${mirror.origin}/model.bin`)}`, '--name', 'model.bin');
    expect(result.code, result.stderr).toBe(0);
    expect(mirror.requests).toHaveLength(1);
    expect(sha256(await readFile(join(dir, 'model.bin')))).toBe(sha256(file.bytes));
  });

  it('refuses to overwrite a file that is already there', async () => {
    const host = await server(model());
    await writeFile(join(dir, 'model.bin'), 'mine');
    const { error } = await pullHere(`${host.origin}/model.bin`);
    expect((error as Error).message).toContain('already exists');
    expect(await readFile(join(dir, 'model.bin'), 'utf8')).toBe('mine');
    expect(host.requests).toHaveLength(0);
  });
});

describe('atelier models pull: retries and timeouts', () => {
  it('retries from the partial file when no data comes for the stall timeout', async () => {
    const file = model();
    const host = await server(file);
    host.fault({ kind: 'stall', after: MiB });
    const { error, notes } = await pullHere(`${host.origin}/model.bin`, { stallTimeoutMs: 300 });
    expect(error).toBeUndefined();
    expect(notes).toContain('No data for 0.3 s (--stall-timeout)');
    expect(host.requests[1]?.range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(sha256(await readFile(join(dir, 'model.bin')))).toBe(sha256(file.bytes));
  });

  it('retries when the server does not answer within the connect timeout', async () => {
    const file = model();
    const host = await server(file);
    host.fault({ kind: 'silent' });
    const { error, notes } = await pullHere(`${host.origin}/model.bin`, { connectTimeoutMs: 300 });
    expect(error).toBeUndefined();
    expect(notes).toContain('did not answer within 0.3 s (--connect-timeout)');
    expect(host.requests).toHaveLength(2);
    expect(sha256(await readFile(join(dir, 'model.bin')))).toBe(sha256(file.bytes));
  });

  it("honours a 429's Retry-After before retrying", async () => {
    const file = model();
    const host = await server(file);
    host.fault({ kind: 'status', status: 429, headers: { 'retry-after': '1' } });
    const { error, notes } = await pullHere(`${host.origin}/model.bin`);
    expect(error).toBeUndefined();
    expect(notes).toContain('HTTP 429');
    // The backoff alone would be 10–20 ms here.
    expect(host.requests[1]!.at - host.requests[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('gives up after --retries failures in a row (exit 1)', async () => {
    const host = await server(model());
    for (let i = 0; i < 2; i++) host.fault({ kind: 'status', status: 503 });
    const result = await pull(`${host.origin}/model.bin`, '--retries', '1');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('HTTP 503 Service Unavailable. Gave up after 1 retry; nothing was downloaded.');
    expect(host.requests).toHaveLength(2);
  });

  it('counts failures in a row only: a retry that made progress starts the count again', async () => {
    const file = model();
    const host = await server(file);
    for (let i = 1; i <= 3; i++) host.fault({ kind: 'drop', after: MiB / 2 });
    const { error } = await pullHere(`${host.origin}/model.bin`, { retries: 1 });
    expect(error).toBeUndefined();
    expect(host.requests.map((r) => r.status)).toEqual([200, 206, 206, 206]);
    expect(sha256(await readFile(join(dir, 'model.bin')))).toBe(sha256(file.bytes));
  });
});
