import type { Kysely } from 'kysely';
import { dialectOf } from '../dialect.js';

/** Columns 0001 and 0006 declared `real`. */
const REAL_COLUMNS = [
  ['jobs', 'cfg_scale'],
  ['jobs', 'progress'],
  ['evaluations', 'value'],
] as const;

/**
 * `real` is an 8-byte float in SQLite but a 4-byte one in PostgreSQL, where a CFG scale of
 * 7.1 or an SSIM of 0.987654321 would come back rounded to ~7 significant digits. On
 * PostgreSQL these columns become `double precision`, so both dialects keep a JS number
 * exactly. Nothing changes on SQLite (whose REAL already is a double).
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (dialectOf(db) !== 'postgres') return;
  for (const [table, column] of REAL_COLUMNS) {
    await db.schema.alterTable(table).alterColumn(column, (c) => c.setDataType('double precision')).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  if (dialectOf(db) !== 'postgres') return;
  for (const [table, column] of REAL_COLUMNS) {
    await db.schema.alterTable(table).alterColumn(column, (c) => c.setDataType('real')).execute();
  }
}
