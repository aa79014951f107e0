import type { Kysely } from 'kysely';

/** Delivery variants of an asset (SPEC §4): JSON list of {name, preset, format, width, height, bytes, key}. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('assets').addColumn('variants', 'text', (c) => c.notNull().defaultTo('[]')).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('assets').dropColumn('variants').execute();
}
