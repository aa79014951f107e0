import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { childEnv, CLI_PATH, REPO_ROOT } from '../../helpers/spawn-server.js';

/** What the test can make the next job(s) do in the worker; one instruction per job, in order. */
export type LaneInstruction =
  /** Render, then hold the outputs (the job stays running, heartbeating) until release() or a cancel. */
  | { readonly kind: 'hold' }
  /** The worker's backend throws instead of rendering: a signal error with this code. */
  | { readonly kind: 'fail'; readonly code: string; readonly retryable: boolean; readonly message: string };

/** A reference worker in a child process of its own; see {@link startLaneWorker}. */
export interface LaneWorker {
  /** Jobs that reached the worker's backend so far (as the child last reported). */
  calls(): number;
  /** Jobs held now (rendered, outputs not sent). */
  holding(): number;
  /** Queues an instruction for the next job that reaches the backend. */
  next(instruction: LaneInstruction): void;
  /** Lets every held job send its outputs; with none held yet, the next job to hold does not. */
  release(): void;
  /** SIGKILL, as a crash: no shutdown, no failure callback; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Everything the worker logged. */
  output(): string;
}

/** The built module of `src/<path>` next to the CLI the tests run (`npm test` builds dist first). */
function built(path: string): string {
  const file = join(dirname(CLI_PATH), '..', '..', path);
  if (!existsSync(file)) throw new Error(`${file} is missing: the remote-lane tests run the built reference worker (npm run build, or ATELIER_TEST_CLI)`);
  return pathToFileURL(file).href;
}

/**
 * The child's program: the real reference worker (createReferenceWorker) rendering with the
 * builtin, behind a thin script of per-job instructions received over IPC. It reports each
 * job that reaches its backend, and each job it holds.
 */
const program = (modules: Record<'worker' | 'builtin' | 'signals', string>) => `
import { createReferenceWorker } from ${JSON.stringify(modules.worker)};
import { createBuiltinBackend } from ${JSON.stringify(modules.builtin)};
import { RetryableError, UnrecoverableError } from ${JSON.stringify(modules.signals)};
const { server, token, backends, concurrency } = JSON.parse(process.argv[1]);
const builtin = createBuiltinBackend();
const script = [];
const releases = new Set();
// A release that finds nothing held yet (the job is still rendering) lets the next hold pass.
let released = false;
let calls = 0;
process.on('message', (message) => {
  if (message.kind === 'release') {
    released = releases.size === 0;
    for (const release of releases) release();
    releases.clear();
  } else script.push(message);
});
const backend = {
  kind: builtin.kind,
  label: builtin.label,
  capabilities: builtin.capabilities,
  async generate(spec, ctx) {
    const instruction = script.shift();
    process.send({ kind: 'call', calls: ++calls });
    if (instruction?.kind === 'fail') {
      throw instruction.retryable ? new RetryableError(instruction.message, instruction.code) : new UnrecoverableError(instruction.message, instruction.code);
    }
    const outputs = await builtin.generate(spec, ctx);
    if (instruction?.kind === 'hold' && released) released = false;
    else if (instruction?.kind === 'hold') {
      process.send({ kind: 'holding', delta: 1 });
      await new Promise((resolve, reject) => {
        if (ctx.signal.aborted) return reject(ctx.signal.reason);
        const release = () => resolve(undefined);
        releases.add(release);
        ctx.signal.addEventListener('abort', () => {
          releases.delete(release);
          reject(ctx.signal.reason);
        }, { once: true });
      }).finally(() => process.send({ kind: 'holding', delta: -1 }));
    }
    return outputs;
  },
};
const worker = createReferenceWorker({ server, token, backend, backends, concurrency, waitSeconds: 5, retry: { baseMs: 50, maxMs: 200 }, log: (line) => process.stderr.write(line + '\\n') });
await worker.run();
`;

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * Starts the reference worker (src/reference-worker, built) in a child process serving the
 * remote backends `backends` of `server`, rendering with the builtin, two jobs at a time —
 * a process the test can SIGKILL mid-job. Resolves once the worker has connected (its first
 * log line names the backends it serves).
 *
 * @example const worker = await startLaneWorker(t.url, await addWorker(t, 'w'), ['lane']); worker.next({ kind: 'hold' }); …; await worker.kill();
 */
export async function startLaneWorker(server: string, token: string, backends: readonly string[], options: { concurrency?: number } = {}): Promise<LaneWorker> {
  const source = program({
    worker: built('src/reference-worker/reference-worker.js'),
    builtin: built('src/backends/builtin/builtin-backend.js'),
    signals: built('src/errors/signals.js'),
  });
  const config = JSON.stringify({ server, token, backends, concurrency: options.concurrency ?? 2 });
  const child = spawn(process.execPath, ['--input-type=module', '-e', source, config], { cwd: REPO_ROOT, env: childEnv({}), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  children.add(child);
  let out = '';
  let calls = 0;
  let holding = 0;
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.on('message', (message: { kind: string; calls?: number; delta?: number }) => {
    if (message.kind === 'call') calls = message.calls!;
    if (message.kind === 'holding') holding += message.delta!;
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      children.delete(child);
      resolve();
    }),
  );
  let gone = false;
  void exited.then(() => (gone = true));

  const deadline = Date.now() + 20_000;
  while (!out.includes(' serving ')) {
    if (gone || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the lane worker did not connect (${gone ? `exit ${child.exitCode}` : 'timed out'}):\n${out}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }

  const send = (message: object) => {
    if (!gone) child.send(message);
  };
  return {
    calls: () => calls,
    holding: () => holding,
    next: (instruction) => send(instruction),
    release: () => send({ kind: 'release' }),
    async kill() {
      if (!gone) child.kill('SIGKILL');
      await exited;
    },
    output: () => out,
  };
}
