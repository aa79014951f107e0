import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { loadConfig } from '../../src/main/load-config.js';
import { createServer, type CreateServerOptions, type Server } from '../../src/main/create-server.js';
import { testSchema, type TestSchema } from './postgres.js';
import { makeTempDir } from './temp-dir.js';

export interface TestServer {
  readonly server: Server;
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly adminToken: string;
  readonly dataDir: string;
  /** Creates a user over the admin API and returns its token. */
  addUser(name: string): Promise<{ id: string; token: string }>;
  close(): Promise<void>;
}

// Rate limits and the prompt cache are off unless a test turns them on: most tests submit
// many jobs at once, and many repeat a request to see it rendered again.
const TEST_DEFAULTS = { RATE_LIMIT_PER_HOUR: '0', RATE_LIMIT_CONCURRENT: '0', CACHE_DEFAULT_MODE: 'off' };

/**
 * A real Atelier server (embedded adapters, built-in renderer) listening on a random
 * loopback port with its own temporary data directory, removed on close. `env` overrides
 * configuration the way environment variables do.
 */
export async function startTestServer(env: Record<string, string> = {}, options: CreateServerOptions = {}): Promise<TestServer> {
  const tmp = await makeTempDir('atelier-server-');
  const t = await startServerOnDir(tmp.dir, env, options);
  return {
    ...t,
    async close() {
      await t.close();
      if (env.DATABASE_URL === undefined) await postgresSchemaFor(tmp.dir)?.drop();
      await tmp.remove();
    },
  };
}

/**
 * ATELIER_TEST_DATABASE_URL (a postgres:// URL; never set by `npm test`) runs the test servers
 * on PostgreSQL: each data directory gets its own schema, named after the directory so a
 * restart on the same directory finds its records. startTestServer drops it on close; a
 * directory the caller owns keeps it.
 */
function postgresSchemaFor(dataDir: string): TestSchema | undefined {
  const baseUrl = process.env.ATELIER_TEST_DATABASE_URL;
  if (!baseUrl) return undefined;
  return testSchema({ baseUrl, schema: `atelier_t_${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16)}` });
}

/**
 * A real server on `dataDir`, which the caller owns: `close()` leaves the directory alone, so
 * a second server can start on it (a restart). Same defaults as startTestServer.
 */
export async function startServerOnDir(dataDir: string, env: Record<string, string> = {}, options: CreateServerOptions = {}): Promise<TestServer> {
  const postgres = postgresSchemaFor(dataDir);
  const database = postgres ? { DATABASE_URL: postgres.url } : {};
  const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...TEST_DEFAULTS, ...database, ...env }, dataDir);
  const server = await createServer(config, options);
  const url = await server.listen();
  const adminToken = server.adminToken.token;
  if (!adminToken) throw new Error(`no admin token for ${dataDir} (source ${server.adminToken.source})`);
  return {
    server,
    url,
    adminToken,
    dataDir,
    async addUser(name) {
      const response = await fetch(`${url}/api/admin/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      if (response.status !== 201) throw new Error(`addUser failed: ${response.status} ${await response.text()}`);
      return (await response.json()) as { id: string; token: string };
    },
    async close() {
      await server.close();
    },
  };
}
