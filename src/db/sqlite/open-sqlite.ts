import { Kysely, SqliteDialect } from 'kysely';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Database } from '../schema.js';
import { withStatementCache } from './statement-cache.js';

import { countStatements } from '../count-statements.js';

/** Opens (creating if needed) the SQLite file `file`, or an in-memory database for ':memory:'. */
export async function openSqlite(file: string, onStatement?: (sql: string) => void): Promise<Kysely<Database>> {
  const { default: SQLite } = await import('better-sqlite3');
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  // WAL lets readers (HTTP) run beside the writer (runner); NORMAL is crash-safe under WAL
  // for process crashes, which is the failure we design for.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }), ...countStatements(onStatement) });
}
