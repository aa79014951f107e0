// Type-only: the embedded (SQLite) mode never loads pg; open-postgres.ts imports it on use.
import type pg from 'pg';

/** PostgreSQL type OIDs whose text form pg leaves as a string by default. */
const INT8 = 20;
const NUMERIC = 1700;

// Every bigint Atelier stores (epoch ms, seeds ≤ 2^32-1, counts, sums of counts) is far below
// 2^53, where a JS number is exact.
const toNumber = (text: string): number => Number(text);

/**
 * Type parsers for one pool (pg's `types` option), not the process-wide `pg.types`: bigint
 * (int8) columns, count(*) and sum() come back as JS numbers, like SQLite gives them, without
 * changing how any other pg user in the process parses them. float4/float8 and int2/int4
 * already parse to numbers.
 */
export function numericTypeParsers(types: typeof pg.types): pg.CustomTypesConfig {
  return {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
      if ((format ?? 'text') === 'text' && (oid === INT8 || oid === NUMERIC)) return toNumber;
      return types.getTypeParser(oid, format ?? 'text');
    }) as pg.CustomTypesConfig['getTypeParser'],
  };
}
