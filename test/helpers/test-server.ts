import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { loadConfig } from '../../src/main/load-config.js';
import type { Config } from '../../src/main/config-schema.js';
import { createServer, type CreateServerOptions as ServerOptions, type Server } from '../../src/main/create-server.js';
import { testSchema, type TestSchema } from './postgres.js';
import { makeTempDir } from './temp-dir.js';
import { fetchTransport, INJECT_ORIGIN, injectTransport, type Transport } from './transport.js';

/** createServer's options, plus `configure`: changes the loaded configuration before the server is made (e.g. a model on a test backend passed in `backends`). */
export interface CreateServerOptions extends ServerOptions {
  readonly configure?: (config: Config) => void;
}

/** What every test server offers, whether it listens or is reached through `app.inject()`. */
export interface ServerUnderTest {
  readonly server: Server;
  /**
   * The origin the server puts in the URLs it hands out (media, presigned uploads): its
   * address when it listens, a made-up host when it is injected into.
   */
  readonly origin: string;
  /** How clients reach it: fetch over its socket, or `app.inject()`. */
  readonly transport: Transport;
  readonly adminToken: string;
  readonly dataDir: string;
  /** Creates a user over the admin API and returns its token. */
  addUser(name: string): Promise<{ id: string; token: string }>;
  close(): Promise<void>;
}

/** A server that listens on a loopback port, for tests that need a real socket or a URL. */
export interface TestServer extends ServerUnderTest {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
}

/**
 * A server that never opens a port: requests go through `app.inject()`. It has no `url`, so a
 * test that would need one does not compile.
 */
export type InjectServer = ServerUnderTest;

// Rate limits and the prompt cache are off unless a test turns them on: most tests submit
// many jobs at once, and many repeat a request to see it rendered again. So is the output
// safety scan: its model takes seconds to load in each test process, which only the tests
// about it (test/media/safety, test/api/safety-*.test.ts) should pay; they pass SAFETY_POLICY.
const TEST_DEFAULTS = { RATE_LIMIT_PER_HOUR: '0', RATE_LIMIT_CONCURRENT: '0', CACHE_DEFAULT_MODE: 'off', SAFETY_POLICY: 'off' };

/**
 * A real Atelier server (embedded adapters, built-in renderer) listening on a random
 * loopback port with its own temporary data directory, removed on close. `env` overrides
 * configuration the way environment variables do. Prefer {@link startInjectServer} unless
 * the test needs the socket.
 */
export async function startTestServer(env: Record<string, string> = {}, options: CreateServerOptions = {}): Promise<TestServer> {
  return onTempDir(env, (dir) => startServerOnDir(dir, env, options));
}

/**
 * The same server as {@link startTestServer} (runner, worker service and sweeps started) but
 * without a socket: clients send requests through `app.inject()`.
 *
 * @example
 * const t = await startInjectServer({ RUNNER_CONCURRENCY: '0' });
 * const api = apiClient(t, t.adminToken);
 * expect((await api.get('/healthz')).status).toBe(200);
 */
export async function startInjectServer(env: Record<string, string> = {}, options: CreateServerOptions = {}): Promise<InjectServer> {
  return onTempDir(env, (dir) => startInjectServerOnDir(dir, env, options));
}

async function onTempDir<T extends ServerUnderTest>(env: Record<string, string>, start: (dir: string) => Promise<T>): Promise<T> {
  const tmp = await makeTempDir('atelier-server-');
  const t = await start(tmp.dir);
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

async function createOnDir(dataDir: string, env: Record<string, string>, options: CreateServerOptions): Promise<{ server: Server; adminToken: string }> {
  const postgres = postgresSchemaFor(dataDir);
  const database = postgres ? { DATABASE_URL: postgres.url } : {};
  const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...TEST_DEFAULTS, ...database, ...env }, dataDir);
  const { configure, ...serverOptions } = options;
  configure?.(config);
  const server = await createServer(config, serverOptions);
  const adminToken = server.adminToken.token;
  if (!adminToken) {
    await server.close();
    throw new Error(`no admin token for ${dataDir} (source ${server.adminToken.source})`);
  }
  return { server, adminToken };
}

function handle(server: Server, adminToken: string, dataDir: string, origin: string, transport: Transport): ServerUnderTest {
  return {
    server,
    origin,
    transport,
    adminToken,
    dataDir,
    async addUser(name) {
      const res = await transport.send({
        method: 'POST',
        url: '/api/admin/users',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      if (res.status !== 201) throw new Error(`addUser failed: ${res.status} ${res.text}`);
      return res.body as { id: string; token: string };
    },
    async close() {
      await server.close();
    },
  };
}

/**
 * A real server on `dataDir`, which the caller owns: `close()` leaves the directory alone, so
 * a second server can start on it (a restart). Same defaults as startTestServer.
 */
export async function startServerOnDir(dataDir: string, env: Record<string, string> = {}, options: CreateServerOptions = {}): Promise<TestServer> {
  const { server, adminToken } = await createOnDir(dataDir, env, options);
  const url = await server.listen();
  return { ...handle(server, adminToken, dataDir, url, fetchTransport(url)), url };
}

/** {@link startServerOnDir} without a socket: started, and reached through `app.inject()`. */
export async function startInjectServerOnDir(dataDir: string, env: Record<string, string> = {}, options: CreateServerOptions = {}): Promise<InjectServer> {
  const { server, adminToken } = await createOnDir(dataDir, env, options);
  await server.start();
  return handle(server, adminToken, dataDir, INJECT_ORIGIN, injectTransport(server.app, INJECT_ORIGIN));
}
