import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The PostgreSQL server tests run against: database `test` on 127.0.0.1:5432 (trust auth),
 * or ATELIER_TEST_POSTGRES_URL. Each suite gets its own schema, so runs never collide.
 */
export const POSTGRES_URL = process.env.ATELIER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestSchema {
  readonly schema: string;
  /** POSTGRES_URL with `?schema=` naming this schema: what DATABASE_URL would be. */
  readonly url: string;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

/**
 * A schema on `baseUrl` (default POSTGRES_URL), by default a fresh, unique one
 * (`atelier_t_<random>`); createDatabase creates it on first open. `drop()` removes it with
 * everything in it, whether or not it was ever created.
 */
export function testSchema(options: { readonly baseUrl?: string; readonly schema?: string } = {}): TestSchema {
  const base = options.baseUrl ?? POSTGRES_URL;
  const schema = options.schema ?? `atelier_t_${randomBytes(6).toString('hex')}`;
  const url = `${base}${base.includes('?') ? '&' : '?'}schema=${schema}`;
  return {
    schema,
    url,
    drop: async () => {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
