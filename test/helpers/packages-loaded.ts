import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'vitest';

/** A built module's file URL (`npm test` builds dist first), for `import()` in a child script. */
export function builtModule(path: string): string {
  return pathToFileURL(join(resolve(import.meta.dirname, '../..'), 'dist', path)).href;
}

/**
 * The npm packages a Node process running `script` (an ES module body) loads, recorded by a
 * resolve hook. The hook runs on its own thread, so it appends to a file synchronously (each
 * import waits for its resolve) rather than writing to stderr, whose lines could arrive late
 * or out of order. Expects the script to exit 0.
 */
export function packagesLoadedBy(script: string, timeoutMs = 60_000): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-loads-'));
  const log = join(dir, 'loaded.txt');
  try {
    const hook = `
      import { appendFileSync } from 'node:fs';
      export async function resolve(specifier, context, next) {
        const result = await next(specifier, context);
        const at = result.url.lastIndexOf('/node_modules/');
        if (at >= 0) {
          const parts = result.url.slice(at + 14).split('/');
          appendFileSync(${JSON.stringify(log)}, (parts[0].startsWith('@') ? parts[0] + '/' + parts[1] : parts[0]) + '\\n');
        }
        return result;
      }`;
    const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
    const run = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: timeoutMs,
    });
    expect(run.status, run.stderr).toBe(0);
    // No file: not one package was loaded.
    return existsSync(log) ? [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))] : [];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
