import { join, resolve } from 'node:path';
import type { Config } from './config-schema.js';
import { redactUrlPassword } from '../lib/redact-url.js';

/**
 * The database a configuration names: `databaseUrl`, or SQLite at `{dataDir}/atelier.db`
 * (dataDir relative to the working directory). The server and every command that opens the
 * database (`users`, `workers`, `cleanup`) call this, so they always agree on where the data is.
 *
 * @example databaseUrlOf(loadConfig(process.env)) // 'sqlite:/srv/atelier/data/atelier.db'
 */
export function databaseUrlOf(config: Pick<Config, 'databaseUrl' | 'dataDir'>): string {
  return config.databaseUrl ?? `sqlite:${join(resolve(config.dataDir), 'atelier.db')}`;
}

/**
 * The database for a person to read, password hidden: "SQLite /srv/atelier/data/atelier.db" or
 * "PostgreSQL postgres://atelier:***@db/atelier".
 */
export function describeDatabase(url: string): string {
  if (/^postgres(ql)?:/i.test(url)) return `PostgreSQL ${redactUrlPassword(url)}`;
  return `SQLite ${url.replace(/^sqlite:/, '')}`;
}
