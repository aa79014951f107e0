import { Kysely, PostgresDialect } from 'kysely';
import type { Database } from '../schema.js';
import { numericTypeParsers } from './type-parsers.js';
import { parsePostgresUrl } from './postgres-url.js';
import { countStatements } from '../count-statements.js';

/**
 * Connections per process. Requests, the runner and the retention sweep share them; a short
 * query holds one for milliseconds, so 10 per node keeps several nodes well inside
 * PostgreSQL's default max_connections (100).
 */
const POOL_SIZE = 10;

export interface OpenedPostgres {
  readonly db: Kysely<Database>;
  /** The schema the tables live in (created if missing); undefined = the default (public). */
  readonly schema: string | undefined;
}

/** Opens a pg pool for `url` (see parsePostgresUrl), creating the URL's schema if missing. */
export async function openPostgres(url: string, onStatement?: (sql: string) => void): Promise<OpenedPostgres> {
  const { connectionString, schema } = parsePostgresUrl(url);
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString, max: POOL_SIZE, types: numericTypeParsers(pg.types) });
  // An idle connection dropped by the server (restart, idle timeout) is an 'error' event on
  // the pool; unheard, it would crash the process. The pool discards the connection and the
  // next query opens a new one, so there is nothing else to do here.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...countStatements(onStatement) });
  try {
    if (schema !== undefined) await ensureSchema(db, schema);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return { db, schema };
}

/**
 * CREATE SCHEMA IF NOT EXISTS can still fail with a unique violation when another node
 * creates the same schema at the same moment; the schema existing afterwards is success.
 */
async function ensureSchema(db: Kysely<Database>, schema: string): Promise<void> {
  try {
    await db.schema.createSchema(schema).ifNotExists().execute();
  } catch (error) {
    const schemas = await db.introspection.getSchemas();
    if (!schemas.some((s) => s.name === schema)) throw error;
  }
}
