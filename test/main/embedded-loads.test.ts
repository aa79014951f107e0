import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtModule, packagesLoadedBy } from '../helpers/packages-loaded.js';

describe('the embedded mode loads no scale-out client', () => {
  it('starts and stops a server on SQLite and disk without loading pg, ioredis, bullmq or the AWS SDK', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'atelier-loads-'));
    try {
      const loaded = packagesLoadedBy(`
        const { loadConfig } = await import(${JSON.stringify(builtModule('src/main/load-config.js'))});
        const { createServer } = await import(${JSON.stringify(builtModule('src/main/create-server.js'))});
        const config = loadConfig({ DATA_DIR: ${JSON.stringify(dataDir)}, LOG_LEVEL: 'silent' }, ${JSON.stringify(dataDir)});
        const server = await createServer(config);
        await server.start();
        await server.close();`);
      // The hook works: the embedded adapters themselves are seen.
      expect(loaded).toEqual(expect.arrayContaining(['better-sqlite3', 'kysely', 'fastify', 'sharp']));
      for (const client of ['pg', 'ioredis', 'bullmq', '@aws-sdk/client-s3']) expect(loaded, `${client} was loaded`).not.toContain(client);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
