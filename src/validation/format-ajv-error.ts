import type { ErrorObject } from 'ajv';
import { AtelierError, describeValue } from '../errors/atelier-error.js';

/**
 * Turns ajv's errors into one AtelierError that reads like sharp's argument errors:
 * "Expected integer 1–150 for steps but received 'many'". `field` is the path as a JavaScript
 * expression would write it, `loras[0].weight`, as the errors raised after validation name it.
 */
export function ajvErrorsToAtelierError(errors: readonly ErrorObject[], data: unknown, root = ''): AtelierError {
  // A choice between fixed values fails on each branch first; the anyOf that follows
  // them says what was really expected: one of the values.
  const first = errors[0]!;
  const choice = errors.find((e) => e.keyword === 'anyOf' && e.instancePath === first.instancePath && constants(e) !== undefined);
  return ajvErrorToAtelierError(choice ?? first, data, root);
}

function constants(error: ErrorObject): unknown[] | undefined {
  const branches = (error.parentSchema as { anyOf?: { const?: unknown }[] } | undefined)?.anyOf;
  if (!branches || !branches.every((b) => 'const' in b)) return undefined;
  return branches.map((b) => b.const);
}

function ajvErrorToAtelierError(error: ErrorObject, data: unknown, root: string): AtelierError {
  const { path: base, value } = locate(error.instancePath, data);
  if (error.keyword === 'additionalProperties') {
    const name = String((error.params as { additionalProperty: string }).additionalProperty);
    const field = join(root, base, name);
    return new AtelierError('unknown_field', `Unknown field '${field}'`, { field });
  }
  if (error.keyword === 'required') {
    const field = join(root, base, String((error.params as { missingProperty: string }).missingProperty));
    return new AtelierError('invalid_parameter', `Expected a value for ${field} but received nothing`, { field });
  }
  const field = join(root, base) || 'body';
  const received = describeValue(value);
  return new AtelierError('invalid_parameter', `Expected ${expectation(error)} for ${field} but received ${received}`, { field });
}

function expectation(error: ErrorObject): string {
  const schema = error.parentSchema as Record<string, unknown> | undefined;
  const type = Array.isArray(schema?.type) ? (schema!.type as string[]).join(' or ') : String(schema?.type ?? 'a valid value');
  const min = schema?.minimum ?? schema?.minLength;
  const max = schema?.maximum ?? schema?.maxLength;
  if (error.keyword === 'enum') return `one of ${(schema?.enum as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  if (error.keyword === 'anyOf') return `one of ${constants(error)!.map((v) => JSON.stringify(v)).join(', ')}`;
  if (error.keyword === 'const') return JSON.stringify(schema?.const);
  if (error.keyword === 'pattern') return `a string matching ${String(schema?.pattern)}`;
  if (error.keyword === 'format') return `a ${String(schema?.format)}`;
  const noun = type === 'string' ? 'string of length' : type;
  // An exclusive bound reads as one: "number > 0 and ≤ 60", never "≤ 60" for a -1.
  const lower = schema?.exclusiveMinimum !== undefined ? `> ${String(schema.exclusiveMinimum)}` : min !== undefined ? `≥ ${String(min)}` : undefined;
  const upper = schema?.exclusiveMaximum !== undefined ? `< ${String(schema.exclusiveMaximum)}` : max !== undefined ? `≤ ${String(max)}` : undefined;
  if (min !== undefined && max !== undefined) return `${noun} ${String(min)}–${String(max)}`;
  if (lower !== undefined && upper !== undefined) return `${noun} ${lower} and ${upper}`;
  if (lower !== undefined) return `${noun} ${lower}`;
  if (upper !== undefined) return `${noun} ${upper}`;
  return type === 'a valid value' ? type : `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}

/** The JSON pointer's place in `data`: its path as the errors name it (`loras[0].weight`) and the value there. */
function locate(pointer: string, data: unknown): { path: string; value: unknown } {
  let path = '';
  let current = data;
  for (const part of pointer.split('/').slice(1)) {
    const name = part.replace(/~1/g, '/').replace(/~0/g, '~');
    path = Array.isArray(current) ? `${path}[${name}]` : join(path, name);
    current = current !== null && typeof current === 'object' ? (current as Record<string, unknown>)[name] : undefined;
  }
  return { path, value: current };
}

/** Joins path parts with dots, except before an index (`loras` + `[0]` is `loras[0]`). */
function join(...parts: string[]): string {
  return parts.filter(Boolean).reduce((path, part) => (path === '' || part.startsWith('[') ? path + part : `${path}.${part}`), '');
}
