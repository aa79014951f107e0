import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * The validators Atelier uses. Bodies are strict (no coercion, unknown fields are errors,
 * never silently removed); query strings, params, headers and environment variables arrive
 * as text, so they are coerced.
 */
export function createAjv(kind: 'strict' | 'coercing', extra: Options = {}): Ajv {
  const ajv = new Ajv({
    allErrors: false,
    // Keeps each error's schema, so messages can state the expected type and range.
    verbose: true,
    removeAdditional: false,
    useDefaults: true,
    coerceTypes: kind === 'coercing',
    strict: false,
    ...extra,
  });
  addFormats(ajv);
  return ajv;
}
