import { PostgresAdapter, type Kysely } from 'kysely';

/** The SQL dialects Atelier's records can live in. */
export type SqlDialect = 'sqlite' | 'postgres';

/**
 * Which dialect a Kysely instance speaks, read from its adapter. Repositories use it for the
 * few statements that must differ (row locks, SKIP LOCKED) without every caller threading
 * the dialect through; a transaction's Kysely answers like the instance that opened it.
 */
export function dialectOf(db: Kysely<any>): SqlDialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/**
 * True for a unique or primary-key violation: PostgreSQL's SQLSTATE 23505, or SQLite's
 * SQLITE_CONSTRAINT_UNIQUE / SQLITE_CONSTRAINT_PRIMARYKEY (better-sqlite3's `code`).
 */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
