import { AtelierError } from '../../errors/atelier-error.js';

/** A PostgreSQL DATABASE_URL split into what pg gets and the schema Atelier keeps its tables in. */
export interface PostgresTarget {
  /** The URL handed to pg: Atelier's `schema` parameter replaced by a `search_path` option. */
  readonly connectionString: string;
  /** The schema to create, search and migrate in; undefined = the connection's default (public). */
  readonly schema: string | undefined;
}

/**
 * Lower-case identifier characters only: the name goes into `search_path` and DDL, and an
 * unquoted upper-case name would fold to lower case in one place and not the other.
 */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/**
 * Parses `postgres://user@host:5432/db?schema=atelier_x`. The `schema` parameter lets several
 * deployments (or test suites) share one database without colliding; it is removed before
 * the URL reaches pg, which would otherwise pass it to the server as a startup option.
 */
export function parsePostgresUrl(url: string): PostgresTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AtelierError('config_invalid', `Expected a valid postgres:// URL for DATABASE_URL but received '${redact(url)}'`, { field: 'DATABASE_URL' });
  }
  const schemas = parsed.searchParams.getAll('schema');
  if (schemas.length > 1) {
    throw new AtelierError('config_invalid', 'Expected at most one schema parameter in DATABASE_URL', { field: 'DATABASE_URL' });
  }
  const schema = schemas[0];
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new AtelierError(
      'config_invalid',
      `Expected a schema name of lower-case letters, digits and '_' (at most 63, not starting with a digit) in DATABASE_URL but received '${schema.slice(0, 70)}'`,
      { field: 'DATABASE_URL' },
    );
  }
  parsed.searchParams.delete('schema');
  if (schema !== undefined) {
    // Every pooled connection searches (and creates unqualified tables in) the schema. pg
    // reads `options` from the URL over its config, so it is added here, after any the URL had.
    const options = parsed.searchParams.get('options');
    parsed.searchParams.set('options', `${options ? `${options} ` : ''}-c search_path=${schema}`);
  }
  return { connectionString: parsed.toString(), schema };
}

/** The URL with its password hidden, for error messages. */
function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@');
}
