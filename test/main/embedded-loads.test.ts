import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '../..');

/**
 * A resolve hook that prints every npm package the process loads, once: proof of what the
 * embedded mode pulls in, read from the built server (`npm test` builds dist first).
 */
const HOOK = `
const seen = new Set();
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  const at = result.url.lastIndexOf('/node_modules/');
  if (at >= 0) {
    const parts = result.url.slice(at + 14).split('/');
    const name = parts[0].startsWith('@') ? parts[0] + '/' + parts[1] : parts[0];
    if (!seen.has(name)) { seen.add(name); process.stderr.write('loaded ' + name + '\\n'); }
  }
  return result;
}`;
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOK)}`)});`;

describe('the embedded mode loads no scale-out client', () => {
  it('starts and stops a server on SQLite and disk without loading pg, ioredis, bullmq or the AWS SDK', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'atelier-loads-'));
    try {
      const script = `
        const { loadConfig } = await import(${JSON.stringify(pathToFileURL(join(REPO, 'dist/src/main/load-config.js')).href)});
        const { createServer } = await import(${JSON.stringify(pathToFileURL(join(REPO, 'dist/src/main/create-server.js')).href)});
        const config = loadConfig({ DATA_DIR: ${JSON.stringify(dataDir)}, LOG_LEVEL: 'silent' }, ${JSON.stringify(dataDir)});
        const server = await createServer(config);
        await server.start();
        await server.close();`;
      const run = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
      expect(run.status, run.stderr).toBe(0);
      const loaded = run.stderr.split('\n').filter((line) => line.startsWith('loaded ')).map((line) => line.slice(7));
      // The hook works: the embedded adapters themselves are seen.
      expect(loaded).toEqual(expect.arrayContaining(['better-sqlite3', 'kysely', 'fastify', 'sharp']));
      for (const client of ['pg', 'ioredis', 'bullmq', '@aws-sdk/client-s3']) expect(loaded, `${client} was loaded`).not.toContain(client);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
