/**
 * A small JSON Schema checker for the subset the API's OpenAPI document uses for request
 * bodies (type, enum/const, minimum/maximum and their exclusive forms, minLength/maxLength,
 * required, additionalProperties, anyOf/oneOf, items, local $ref). Ajv would do it too, but
 * it compiles validators with `new Function`, which the app's CSP (script-src 'self') forbids.
 */
export type JsonSchema = {
  readonly type?: string | readonly string[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly required?: readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly $ref?: string;
};

export interface SchemaProblem {
  /** Where, as a dotted path ('' for the body itself): `steps`, `guidance_images.0.upload_id`. */
  readonly path: string;
  readonly message: string;
}

type Resolve = (ref: string) => JsonSchema | undefined;

/** The problems of `value` against `schema`; empty when it conforms. */
export function checkSchema(schema: JsonSchema, value: unknown, resolve: Resolve = () => undefined, path = ''): SchemaProblem[] {
  if (schema.$ref) {
    const target = resolve(schema.$ref);
    return target ? checkSchema(target, value, resolve, path) : [];
  }
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) {
    const results = alternatives.map((option) => checkSchema(option, value, resolve, path));
    if (results.some((problems) => problems.length === 0)) return [];
    return [{ path, message: describeAlternatives(alternatives, value, results, resolve) }];
  }
  const problems: SchemaProblem[] = [];
  const add = (message: string, at = path) => problems.push({ path: at, message });

  if (schema.type !== undefined) {
    const types = typeof schema.type === 'string' ? [schema.type] : schema.type;
    if (!types.some((type) => hasType(value, type))) {
      add(`expected ${types.join(' or ')} but received ${describe(value)}`);
      return problems;
    }
  }
  if (schema.const !== undefined && value !== schema.const) add(`expected ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.includes(value)) add(`expected one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`);
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) add(`expected at least ${schema.minimum} but received ${value}`);
    if (schema.maximum !== undefined && value > schema.maximum) add(`expected at most ${schema.maximum} but received ${value}`);
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) add(`expected more than ${schema.exclusiveMinimum} but received ${value}`);
    if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) add(`expected less than ${schema.exclusiveMaximum} but received ${value}`);
  }
  if (typeof value === 'string') {
    // JSON Schema counts code points, not UTF-16 units.
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength) add(`expected at least ${schema.minLength} characters`);
    if (schema.maxLength !== undefined && length > schema.maxLength) add(`expected at most ${schema.maxLength} characters but received ${length}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) add(`expected at least ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) add(`expected at most ${schema.maxItems} items but received ${value.length}`);
    if (schema.items) value.forEach((item, i) => problems.push(...checkSchema(schema.items!, item, resolve, join(path, String(i)))));
  }
  if (isObject(value)) {
    for (const key of schema.required ?? []) if (!(key in value)) add(`is required`, join(path, key));
    for (const [key, item] of Object.entries(value)) {
      const property = schema.properties?.[key];
      if (property) problems.push(...checkSchema(property, item, resolve, join(path, key)));
      else if (schema.additionalProperties === false) add(`is not a field of this request`, join(path, key));
      else if (typeof schema.additionalProperties === 'object') problems.push(...checkSchema(schema.additionalProperties, item, resolve, join(path, key)));
    }
  }
  return problems;
}

/** One line per problem, as the editor shows them: `steps: expected at most 150 but received 200`. */
export function formatProblem(problem: SchemaProblem): string {
  return problem.path ? `${problem.path}: ${problem.message}` : problem.message;
}

function describeAlternatives(alternatives: readonly JsonSchema[], value: unknown, results: SchemaProblem[][], resolve: Resolve): string {
  const resolved = alternatives.map((option) => (option.$ref ? (resolve(option.$ref) ?? option) : option));
  // An enum spelled as anyOf of single-value enums/consts (TypeBox unions of literals).
  const literals = resolved.flatMap((option) => option.enum ?? (option.const !== undefined ? [option.const] : []));
  if (literals.length === resolved.length) return `expected one of ${literals.map((v) => JSON.stringify(v)).join(', ')} but received ${describe(value)}`;
  // Objects told apart by their keys (image refs): say which shapes would do.
  const shapes = resolved.map((option) => (option.properties ? `{${Object.keys(option.properties).join(', ')}}` : option.type));
  if (shapes.every(Boolean)) return `expected one of ${shapes.join(' | ')} but received ${describe(value)}`;
  return results[0]![0]?.message ?? 'does not match the schema';
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isObject(value);
    case 'null':
      return value === null;
    default:
      return true;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** The OpenAPI document's parts this checker needs. */
export interface OpenApiDocument {
  readonly paths?: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: JsonSchema }> } }>>;
  readonly components?: { readonly schemas?: Record<string, JsonSchema> };
}

/** The JSON request-body schema of `POST path`, with a resolver for its local $refs. */
export function requestSchema(doc: OpenApiDocument, path: string): { schema: JsonSchema; resolve: Resolve } | undefined {
  const schema = doc.paths?.[path]?.post?.requestBody?.content?.['application/json']?.schema;
  if (!schema) return undefined;
  const resolve: Resolve = (ref) => {
    const match = /^#\/components\/schemas\/(.+)$/.exec(ref);
    return match ? doc.components?.schemas?.[decodeURIComponent(match[1]!)] : undefined;
  };
  return { schema, resolve };
}
