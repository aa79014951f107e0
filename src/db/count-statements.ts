import type { KyselyConfig } from 'kysely';

/** Kysely's log hook, reduced to a call per statement sent (failed ones too: they cost a round trip). */
export function countStatements(onStatement: ((sql: string) => void) | undefined): Pick<KyselyConfig, 'log'> {
  return onStatement ? { log: (event) => onStatement(event.query.sql) } : {};
}
