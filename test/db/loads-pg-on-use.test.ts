import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

/** The built module (`npm test` builds dist first), as `atelier serve` runs it. */
const CREATE_DB = pathToFileURL(join(resolve(import.meta.dirname, '../..'), 'dist/src/db/create-db.js')).href;

/**
 * The npm packages a Node process running `script` loads, recorded by a resolve hook. The hook
 * runs on its own thread, so it appends to a file synchronously (each import waits for its
 * resolve) rather than writing to stderr, whose lines could arrive late or out of order.
 */
function packagesLoadedBy(script: string): string[] {
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
      timeout: 30_000,
    });
    expect(run.status, run.stderr).toBe(0);
    return [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('createDatabase loads pg only for a postgres:// URL', () => {
  it('opens, pings and closes SQLite without loading pg', () => {
    const loaded = packagesLoadedBy(`
      const { createDatabase } = await import(${JSON.stringify(CREATE_DB)});
      const handle = await createDatabase(':memory:');
      await handle.ping();
      await handle.close();`);
    // The hook works: the SQLite adapter's packages are seen.
    expect(loaded).toEqual(expect.arrayContaining(['kysely', 'better-sqlite3']));
    expect(loaded).not.toContain('pg');
  });

  it('loads pg when a postgres:// URL is opened (the control: the hook would see a static import)', () => {
    // Port 1 refuses the connection, so no server is needed: opening fails after pg is loaded.
    const loaded = packagesLoadedBy(`
      const { createDatabase } = await import(${JSON.stringify(CREATE_DB)});
      await createDatabase('postgres://atelier@127.0.0.1:1/none').then((handle) => handle.close(), () => undefined);`);
    expect(loaded).toContain('pg');
    expect(loaded).not.toContain('better-sqlite3');
  });
});
