import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtModule, packagesLoadedBy } from '../helpers/packages-loaded.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { REPO_ROOT, runCli, type CliResult } from '../helpers/spawn-server.js';

const STACK_LINE = /\n\s+at .+[:(]/;

describe('atelier (the CLI entry point)', () => {
  let tmp: { dir: string; remove: () => Promise<void> };
  beforeAll(async () => {
    tmp = await makeTempDir('atelier-cli-main-');
  });
  afterAll(async () => {
    await tmp?.remove();
  });

  it('--version prints the package version and exits 0', async () => {
    const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const result = await runCli(['--version']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`atelier ${version}\n`);
  });

  it('--help lists every command and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code, result.stderr).toBe(0);
    for (const command of ['serve', 'generate', 'users', 'workers', 'worker', 'cleanup', 'models pull', '--version']) expect(result.stdout).toContain(command);
    expect(result.stderr).toBe('');
  });

  describe('every command answers --help with its usage, exit 0, doing nothing else', () => {
    const dataDir = () => join(tmp.dir, 'data');
    const cases: [string, string[], string][] = [
      ['serve --help', ['serve', '--help'], 'Usage: atelier serve'],
      ['serve -h', ['serve', '-h'], 'Usage: atelier serve'],
      ['generate --help', ['generate', '--help'], 'Usage: atelier generate "PROMPT"'],
      ['generate "a fox" --steps 3 --help', ['generate', 'a fox', '--steps', '3', '--help'], '--aspect-ratio'],
      ['users --help', ['users', '--help'], 'Usage: atelier users'],
      ['users add --help', ['users', 'add', '--help'], 'Usage: atelier users'],
      ['workers add --help', ['workers', 'add', '--help'], 'Usage: atelier workers'],
      ['worker --help', ['worker', '--help'], 'Usage: atelier worker --server'],
      ['cleanup --help', ['cleanup', '--help'], 'Usage: atelier cleanup'],
      ['models pull --help', ['models', 'pull', '--help'], 'Usage: atelier models pull'],
      ['help generate', ['help', 'generate'], 'Usage: atelier generate'],
    ];
    let results: CliResult[];
    beforeAll(async () => {
      // DATA_DIR points somewhere fresh: a command that ran for real would create it.
      results = await Promise.all(cases.map(([, args]) => runCli(args, { env: { DATA_DIR: dataDir() } })));
    });

    it.each(cases.map((c, i) => [c[0], i, c[2]] as const))('%s', (_name, i, expected) => {
      const result = results[i]!;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(expected);
      expect(result.stderr).toBe('');
    });

    it('started no server and created no user, worker or database', () => {
      expect(existsSync(dataDir())).toBe(false);
      for (const result of results) expect(result.stdout).not.toContain('Atelier is running');
    });
  });

  it('refuses unknown commands and unknown options with exit 64 and the usage, no stack trace', async () => {
    const results = await Promise.all([
      runCli(['frobnicate']),
      runCli(['serve', '--port', '9000']),
      runCli(['generate', 'a fox', '--stepz', '4', '--token', 'atl_x']),
      runCli(['cleanup', '--force']),
      runCli(['workers', 'list', '--all']),
      runCli(['worker', '--speed', 'fast']),
    ]);
    for (const result of results) {
      expect(result.code, result.stderr).toBe(64);
      expect(result.stderr).toMatch(/Unknown (command|option)|Usage: atelier/);
      expect(result.stderr).toContain('Usage: atelier');
      expect(result.stderr).not.toMatch(STACK_LINE);
      expect(result.stdout).toBe('');
    }
  });

  it('loads no npm package for --help, --version or a command\'s --help (each command is imported when it runs)', () => {
    const main = builtModule('src/cli/main.js');
    for (const args of [['--help'], ['--version'], ['serve', '--help'], ['generate', '--help'], ['workers', '--help'], ['cleanup', '--help']]) {
      const loaded = packagesLoadedBy(`process.argv = [process.argv[0], 'atelier', ...${JSON.stringify(args)}]; await import(${JSON.stringify(main)});`);
      expect(loaded, args.join(' ')).toEqual([]);
    }
    // …whereas running a command loads what it needs (here the database driver).
    const ran = packagesLoadedBy(
      `process.env.DATA_DIR = ${JSON.stringify(join(tmp.dir, 'loads'))}; process.argv = [process.argv[0], 'atelier', 'workers', 'list']; await import(${JSON.stringify(main)});`,
    );
    expect(ran).toContain('kysely');
  });
});
