import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { makeTempDir } from './temp-dir.js';

/**
 * A real ComfyUI, started from an extracted source tree on CPU for one test file: the recipe of
 * ../shared/peers/comfyui (Debian's python3 with torch; `sitecustomize.py` standing in for
 * packages only model loading needs; the weightless `AtelierSlowSteps` node).
 */
export interface RealComfyUI {
  readonly url: string;
  /** Everything ComfyUI printed, for a failure message. */
  readonly log: () => string;
  /** kill -9, as a crash. */
  kill(): void;
  close(): Promise<void>;
}

/** Where the peer files live: COMFYUI_PEER_FILES, else the workspace's shared folder beside the repository. */
export const peerFilesDir = () => resolve(process.env.COMFYUI_PEER_FILES ?? join(process.cwd(), '..', 'shared', 'peers', 'comfyui'));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/**
 * Starts ComfyUI from `comfyDir` on 127.0.0.1 and a free port, with its outputs, temp files and
 * the test node in a temporary folder (the ComfyUI tree is not written to), and resolves once
 * GET /system_stats answers.
 *
 * @throws Error with ComfyUI's output when it does not answer within `startMs`.
 */
export async function startRealComfyUI(comfyDir: string, opts: { readonly startMs?: number; readonly python?: string } = {}): Promise<RealComfyUI> {
  const temp = await makeTempDir('atelier-real-comfyui-');
  const nodes = join(temp.dir, 'custom_nodes');
  await mkdir(nodes);
  await copyFile(join(peerFilesDir(), 'atelier_test_nodes.py'), join(nodes, 'atelier_test_nodes.py'));
  const extraPaths = join(temp.dir, 'extra_model_paths.yaml');
  await writeFile(extraPaths, `atelier:\n  custom_nodes: ${nodes}\n`);
  const port = await freePort();
  const args = [
    'main.py', '--cpu', '--listen', '127.0.0.1', '--port', String(port),
    '--output-directory', join(temp.dir, 'output'), '--temp-directory', temp.dir,
    '--extra-model-paths-config', extraPaths,
  ];
  let output = '';
  const child: ChildProcess = spawn(opts.python ?? process.env.COMFYUI_PYTHON ?? '/usr/bin/python3', args, {
    cwd: comfyDir,
    env: { ...process.env, PYTHONPATH: peerFilesDir(), PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (chunk: Buffer) => void (output = (output + chunk.toString('utf8')).slice(-20_000));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.startMs ?? 120_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`ComfyUI exited with code ${child.exitCode} before it answered:\n${output}`);
    const up = await fetch(`${url}/system_stats`).then((res) => res.ok, () => false);
    if (up) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`ComfyUI did not answer within ${opts.startMs ?? 120_000} ms:\n${output}`);
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  return {
    url,
    log: () => output,
    kill: () => void child.kill('SIGKILL'),
    async close() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      await temp.remove();
    },
  };
}
