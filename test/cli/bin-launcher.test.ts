import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killAllSpawned, REPO_ROOT, spawnServer } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** bin/atelier: what `npx atelier`, `npm start` and an installed `atelier` run. */
const LAUNCHER = join(REPO_ROOT, 'bin', 'atelier');

/** A running process's environment, from /proc. */
function environOf(pid: number): Record<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return Object.fromEntries(entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
}

describe('bin/atelier', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  beforeAll(async () => {
    tmp = await makeTempDir('atelier-launcher-');
  });
  afterEach(() => killAllSpawned());
  afterAll(() => tmp?.remove());

  it('runs the server as one Node process with two malloc arenas, which a SIGKILL stops', async () => {
    const server = await spawnServer({ command: [LAUNCHER], env: { DATA_DIR: join(tmp.dir, 'default') } });
    const pid = server.process.pid!;
    // exec: the pid the supervisor holds is Node's, not a shell's waiting on it.
    const [program, script] = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(program).toMatch(/node$/);
    expect(realpathSync(script!)).toBe(join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js'));
    expect(environOf(pid).MALLOC_ARENA_MAX).toBe('2');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await server.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('keeps a MALLOC_ARENA_MAX the operator set', async () => {
    const server = await spawnServer({ command: [LAUNCHER], env: { DATA_DIR: join(tmp.dir, 'set'), MALLOC_ARENA_MAX: '4' } });
    expect(environOf(server.process.pid!).MALLOC_ARENA_MAX).toBe('4');
  });
});
