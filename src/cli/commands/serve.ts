import { createServer as createNetServer } from 'node:net';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../main/load-config.js';
import { createServer } from '../../main/create-server.js';
import { redactUrlPassword } from '../../lib/redact-url.js';
import { CliError, UsageError } from '../cli-error.js';
import { SERVE_USAGE } from '../usage.js';

/**
 * `atelier serve`: the server on the configured adapters (embedded by default). Prints the
 * playground URL and an API token, then runs until SIGINT/SIGTERM.
 */
export async function serveCommand(args: string[] = []): Promise<void> {
  // Configuration comes from the environment and the file; an argument is a mistake.
  try {
    parseArgs({ args, strict: true, allowPositionals: false, options: {} });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${SERVE_USAGE}`);
  }
  const config = loadConfig(process.env);
  // Before anything opens: a second start on a running server's DATA_DIR (its NODE_ID) would
  // otherwise take back that server's running jobs, and only then find the port taken.
  await probePort(config);
  const logger = pino({ level: config.logLevel });
  const server = await createServer(config, { logger: logger as unknown as FastifyInstance['log'] });
  const address = await server.listen().catch(async (error: unknown) => {
    await server.close().catch(() => undefined);
    throw listenFailure(config, error);
  });
  const origin = config.publicUrl?.replace(/\/$/, '') ?? address.replace('//[::1]', '//localhost');
  const { token, source } = server.adminToken;

  const lines = [
    '',
    `Atelier is running at ${origin}`,
    `  mode        ${modeLine(config)}`,
    `  models      ${modelsLine(config)}`,
    token ? `  playground  ${origin}/?token=${token}` : `  playground  ${origin}/`,
    token
      ? `  API token   ${token}${source === 'ATELIER_ADMIN_TOKEN' ? ' (from ATELIER_ADMIN_TOKEN)' : ` (admin; kept in ${config.dataDir}/admin-token)`}`
      : '  API token   create one with: npx atelier users add NAME',
    `  API docs    ${origin}/openapi.json`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/** Binds HOST:PORT for a moment (not port 0): refuses at once, in one line, a port another process holds. */
async function probePort(config: ReturnType<typeof loadConfig>): Promise<void> {
  if (config.port === 0) return;
  const probe = createNetServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen({ host: config.host, port: config.port, exclusive: true }, resolve);
  }).catch((error: unknown) => {
    throw listenFailure(config, error);
  });
  await new Promise((resolve) => probe.close(resolve));
}

/** A port in use or not ours to take, in one line naming HOST and PORT; other errors as they are. */
function listenFailure(config: ReturnType<typeof loadConfig>, error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  const where = `${config.host}:${config.port}`;
  if (code === 'EADDRINUSE') return new CliError(`Cannot listen on ${where}: the address is already in use (another server?); set PORT, or HOST, to a free one`);
  if (code === 'EACCES') return new CliError(`Cannot listen on ${where}: permission denied (ports below 1024 need privileges); set PORT to another`);
  if (code === 'EADDRNOTAVAIL') return new CliError(`Cannot listen on ${where}: HOST is not an address of this machine`);
  return error;
}

function modelsLine(config: ReturnType<typeof loadConfig>): string {
  return config.models.map((m) => `${m.name}${m.default ? ' (default)' : ''}: ${m.label}`).join('; ');
}

/** Which adapters this node runs on: what an operator checks first. */
function modeLine(config: ReturnType<typeof loadConfig>): string {
  const embedded = !config.databaseUrl?.match(/^postgres(ql)?:/) && !config.redisUrl && !config.storageUrl;
  if (embedded) return `embedded (SQLite + local disk + in-process queue) in ${config.dataDir}`;
  const database = config.databaseUrl?.match(/^postgres(ql)?:/) ? `PostgreSQL ${redactUrlPassword(config.databaseUrl)}` : 'SQLite';
  const queue = config.redisUrl ? `BullMQ + Redis events ${redactUrlPassword(config.redisUrl)} (prefix ${config.redisPrefix})` : 'SQL queue + in-process events';
  const storage = config.storageUrl ?? 'local disk';
  return `scale-out: ${database}; ${queue}; media on ${storage}`;
}
