import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The built CLI (`npm test` builds before running vitest). ATELIER_TEST_CLI points the tests
 * at another build (e.g. a deliberately broken copy, to check that a test can fail).
 */
/** The repository root, a neutral cwd without an atelier.config.json of its own. */
export const REPO_ROOT = packageRoot(fileURLToPath(new URL('.', import.meta.url)));
export const CLI_PATH = process.env.ATELIER_TEST_CLI ?? join(REPO_ROOT, 'dist/src/cli/main.js');

/** The package root above `dir`: this module also runs compiled, from dist/test (the bench). */
function packageRoot(dir: string): string {
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export interface SpawnedServer {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  /** The admin token from the banner (or `<DATA_DIR>/admin-token`), if any. */
  readonly token: string | undefined;
  /** Everything the child wrote so far. */
  stdout(): string;
  stderr(): string;
  /** Sends a signal and resolves once the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs` if it has not exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnServerOptions {
  /**
   * Environment overrides; DATA_DIR is required. When neither PORT nor `port` is given, a
   * free port is picked and passed as PORT.
   */
  readonly env: Record<string, string>;
  /**
   * Where the server will listen when it is not told so through PORT (e.g. a config file
   * sets it): PORT is then left out of the environment.
   */
  readonly port?: number;
  /** Host to poll when HOST is not in `env` (default 127.0.0.1). */
  readonly host?: string;
  readonly cwd?: string;
  readonly timeoutMs?: number;
  /** What runs `serve`: an executable and its first arguments. Default: this Node on the built CLI. */
  readonly command?: readonly [string, ...string[]];
}

const children = new Set<ChildProcess>();

/** Kills (SIGKILL) every child spawned by this module that is still alive. Call in afterAll. */
export async function killAllSpawned(): Promise<void> {
  await Promise.all([...children].map((child) => killChild(child, 'SIGKILL')));
}

// Last resort: never leave a server behind when the test worker itself exits.
process.once('exit', () => {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no port'));
      server.close(() => resolve(address.port));
    });
  });
}

/** The environment a child gets: the parent's, minus any Atelier settings, plus `env`. */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [
    'HOST', 'PORT', 'DATA_DIR', 'ATELIER_ADMIN_TOKEN', 'DATABASE_URL', 'MEDIA_DIR', 'PUBLIC_URL', 'ATELIER_SIGNING_SECRET',
    'LOG_LEVEL', 'BODY_LIMIT_BYTES', 'RUNNER_CONCURRENCY', 'LEASE_SECONDS', 'MAX_ATTEMPTS', 'BACKOFF_BASE_MS', 'BACKOFF_MAX_MS',
    'WORKSPACE_TTL_HOURS', 'WORKSPACE_URL_TTL_SECONDS', 'SYNC_TIMEOUT_SECONDS', 'ATELIER_CONFIG', 'ATELIER_TOKEN', 'ATELIER_SERVER',
    'ATELIER_TEST_CLI', 'SAFETY_POLICY', 'SAFETY_THRESHOLD', 'SAFETY_URL', 'SAFETY_TIMEOUT_MS',
    'WEBHOOK_RETRY_DELAY_SECONDS', 'WEBHOOK_POLL_SECONDS',
    'MALLOC_ARENA_MAX',
  ]) {
    delete base[name];
  }
  // The output safety scan is off unless a test asks for it (see TEST_DEFAULTS in test-server.ts).
  return { ...base, LOG_LEVEL: 'warn', SAFETY_POLICY: 'off', ...env };
}

/**
 * Starts `atelier serve` (the built CLI) as a child process and waits until `/healthz`
 * answers. Rejects with the child's output if it exits or does not answer in time.
 */
export async function spawnServer(options: SpawnServerOptions): Promise<SpawnedServer> {
  const port = options.port ?? (options.env.PORT !== undefined ? Number(options.env.PORT) : await freePort());
  const host = options.env.HOST ?? options.host ?? '127.0.0.1';
  const env = childEnv(options.port === undefined ? { ...options.env, PORT: String(port) } : options.env);
  const [executable, ...firstArgs] = options.command ?? [process.execPath, CLI_PATH];
  const child = spawn(executable, [...firstArgs, 'serve'], { cwd: options.cwd ?? REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  const describe = () => `\n--- stdout ---\n${out}\n--- stderr ---\n${err}`;
  for (;;) {
    if (hasExited) throw new Error(`atelier serve exited before answering /healthz (exit ${child.exitCode}, signal ${child.signalCode})${describe()}`);
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      // Another process may hold the port; only our child prints the banner after listening.
      if (response.ok && out.includes('API token')) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await killChild(child, 'SIGKILL');
      throw new Error(`atelier serve did not answer /healthz at ${url} within ${options.timeoutMs ?? 15_000} ms${describe()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  // `  API token   <token> (admin; kept in …)` or `(from ATELIER_ADMIN_TOKEN)`; without a
  // known token the line reads `  API token   create one with: …`.
  const token = /^ {2}API token {3}(\S+) \(/m.exec(out)?.[1] ?? readToken(options.env.DATA_DIR);
  return {
    url,
    port,
    process: child,
    token,
    stdout: () => out,
    stderr: () => err,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (!hasExited) child.kill(signal);
      return exited;
    },
    async stop(graceMs = 5000) {
      if (hasExited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

function readToken(dataDir: string | undefined): string | undefined {
  if (!dataDir) return undefined;
  const file = join(dataDir, 'admin-token');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

async function killChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await done;
}

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI to completion (for `users`, `generate`, or a `serve` expected to fail). */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: childEnv(options.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timeoutMs = options.timeoutMs ?? 15_000;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, s) => resolve({ code: c, signal: s }));
  });
  clearTimeout(timer);
  children.delete(child);
  if (signal === 'SIGKILL') throw new Error(`atelier ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`);
  return { code, signal, stdout, stderr };
}
