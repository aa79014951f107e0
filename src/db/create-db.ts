import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { AtelierError } from '../errors/atelier-error.js';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly dialect: 'sqlite';
  close(): Promise<void>;
}

/**
 * Opens the database named by `url` (`sqlite:./data/atelier.db`, or a bare file path) and
 * applies pending migrations. PostgreSQL slots in here as a second dialect later.
 */
export async function createDatabase(url: string): Promise<DatabaseHandle> {
  const file = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url;
  if (/^[a-z]+:\/\//i.test(file)) {
    throw new AtelierError('config_invalid', `Expected a sqlite: database URL for DATABASE_URL but received '${url}'`, { field: 'DATABASE_URL' });
  }
  const { default: SQLite } = await import('better-sqlite3');
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  // WAL lets readers (HTTP) run beside the writer (runner); NORMAL is crash-safe under WAL
  // for process crashes, which is the failure we design for.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  await migrate(db);
  return { db, dialect: 'sqlite', close: () => db.destroy() };
}

async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
