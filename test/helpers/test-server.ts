import { loadConfig } from '../../src/main/load-config.js';
import { createServer, type CreateServerOptions, type Server } from '../../src/main/create-server.js';
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

/**
 * A real Atelier server (embedded adapters, built-in renderer) listening on a random
 * loopback port with its own temporary data directory. `env` overrides configuration the way
 * environment variables do.
 */
export async function startTestServer(env: Record<string, string> = {}, options: CreateServerOptions = {}): Promise<TestServer> {
  const tmp = await makeTempDir('atelier-server-');
  // Rate limits and the prompt cache are off unless a test turns them on: most tests submit
  // many jobs at once, and many repeat a request to see it rendered again.
  const defaults = { RATE_LIMIT_PER_HOUR: '0', RATE_LIMIT_CONCURRENT: '0', CACHE_DEFAULT_MODE: 'off' };
  const config = loadConfig({ DATA_DIR: tmp.dir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...defaults, ...env }, tmp.dir);
  const server = await createServer(config, options);
  const url = await server.listen();
  const adminToken = server.adminToken.token!;
  return {
    server,
    url,
    adminToken,
    dataDir: tmp.dir,
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
      await tmp.remove();
    },
  };
}
