import { Migrator, sql, type Kysely } from 'kysely';
import { AtelierError } from '../errors/atelier-error.js';
import { redactUrlPassword } from '../lib/redact-url.js';
import type { SqlDialect } from './dialect.js';
import { migrationProvider } from './migrations/index.js';
import { openPostgres } from './postgres/open-postgres.js';
import { isPostgresUrl } from './postgres/postgres-url.js';
import type { Database } from './schema.js';
import { openSqlite } from './sqlite/open-sqlite.js';

export interface DatabaseHandle {
  /** For the repos (src/db/repos) and the SQL queue; nothing outside src/db writes SQL with it. */
  readonly db: Kysely<Database>;
  readonly dialect: SqlDialect;
  /** Resolves when the database answers a trivial query (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Called once per statement sent (transaction control included), e.g. to count them. */
  readonly onStatement?: (sql: string) => void;
}

/**
 * Opens the database named by `url` and applies pending migrations:
 * - `sqlite:./data/atelier.db` or a bare file path: SQLite (better-sqlite3);
 * - `postgres://…` or `postgresql://…`: PostgreSQL (pg pool). An optional `?schema=name`
 *   keeps the tables, and Kysely's migration tables, in that schema (created if missing).
 *
 * Several nodes may start at once against one PostgreSQL database: Kysely's Migrator takes
 * an advisory lock there and runs the pending migrations in one transaction, so exactly one
 * node applies them and the others find them applied.
 */
export async function createDatabase(url: string, options: DatabaseOptions = {}): Promise<DatabaseHandle> {
  if (isPostgresUrl(url)) {
    try {
      const { db, schema } = await openPostgres(url, options.onStatement);
      await migrateOrClose(db, schema);
      return handle(db, 'postgres');
    } catch (error) {
      throw unreachable(url, error) ?? error;
    }
  }
  const file = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url;
  if (/^[a-z]+:\/\//i.test(file)) {
    throw new AtelierError('config_invalid', `Expected a sqlite: or postgres:// database URL for DATABASE_URL but received '${redactUrlPassword(url)}'`, {
      field: 'DATABASE_URL',
    });
  }
  const db = await openSqlite(file, options.onStatement);
  await migrateOrClose(db, undefined);
  return handle(db, 'sqlite');
}

/** Network errors, and PostgreSQL's refusals of the connection itself (login, unknown database, starting up). */
const CONNECTION_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', '28000', '28P01', '3D000', '57P03']);

/**
 * A PostgreSQL that cannot be reached as the error the CLI prints in one line, naming
 * DATABASE_URL (it surfaces from the first query, the migration's); undefined for other errors.
 */
function unreachable(url: string, error: unknown): AtelierError | undefined {
  const code = (e: unknown) => String((e as { code?: unknown } | null)?.code);
  const cause = CONNECTION_FAILURES.has(code(error)) ? error : (error as { cause?: unknown } | null)?.cause;
  if (!CONNECTION_FAILURES.has(code(cause))) return undefined;
  return new AtelierError('not_ready', `Cannot connect to PostgreSQL at DATABASE_URL (${redactUrlPassword(url)}): ${(cause as Error).message}`, { field: 'DATABASE_URL', cause });
}

function handle(db: Kysely<Database>, dialect: SqlDialect): DatabaseHandle {
  return {
    db,
    dialect,
    async ping() {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

async function migrateOrClose(db: Kysely<Database>, schema: string | undefined): Promise<void> {
  try {
    await migrate(db, schema);
  } catch (error) {
    await db.destroy();
    throw error;
  }
}

/** How often a migration that lost a race with another schema's DROP is tried again. */
const MIGRATION_ATTEMPTS = 5;

async function migrate(db: Kysely<Database>, schema: string | undefined): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider, ...(schema !== undefined ? { migrationTableSchema: schema } : {}) });
  let { error, results } = await migrator.migrateToLatest();
  for (let attempt = 1; error && attempt < MIGRATION_ATTEMPTS && otherSchemaDropped(error, results); attempt++) {
    ({ error, results } = await migrator.migrateToLatest());
  }
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/**
 * Kysely's Migrator looks for its own tables by introspecting every schema of the database,
 * and PostgreSQL fails that query when another schema is dropped while it runs — another
 * deployment or test suite sharing the database: `schema "…" does not exist`, `relation
 * "other_schema.table" does not exist`, `column "…" of relation "…" does not exist`. Such a
 * round failed before any migration ran (Kysely reports no results), so it is tried again.
 */
const VANISHED_OBJECT = new Set(['3F000', '42P01', '42703', '42883', '42704']);

function otherSchemaDropped(error: unknown, results: readonly unknown[] | undefined): boolean {
  return results === undefined && VANISHED_OBJECT.has(String((error as { code?: unknown }).code));
}
