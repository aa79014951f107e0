import type { Database as SQLiteDatabase, Statement } from 'better-sqlite3';
import { rememberBounded } from '../../lib/remember-bounded.js';
import type { SqliteDatabase } from 'kysely';

/** Distinct SQL texts kept prepared; the server issues a few dozen, migrations a few hundred once. */
const MAX_STATEMENTS = 256;

/**
 * The better-sqlite3 database as Kysely's SqliteDialect sees it, with prepared statements kept
 * by SQL text. Kysely prepares every query anew; preparing is a parse and plan per call, and
 * the hot statements (claim, record, event append) repeat the same text thousands of times.
 * A statement still being iterated (a streamed query) is busy and cannot be run again until
 * it finishes, so such a call gets a fresh statement instead.
 */
export function withStatementCache(sqlite: SQLiteDatabase): SqliteDatabase {
  const statements = new Map<string, Statement>();
  return {
    close: () => {
      statements.clear();
      sqlite.close();
    },
    prepare(sql: string) {
      const cached = statements.get(sql);
      if (cached && !cached.busy) return cached;
      const statement = sqlite.prepare(sql);
      if (!cached) {
        rememberBounded(statements, sql, statement, MAX_STATEMENTS);
      }
      return statement;
    },
  };
}
