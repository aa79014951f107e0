import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AtelierError } from '../../errors/atelier-error.js';

/** Deeper than any request Atelier takes (a ControlNet unit is 3 levels); far below a stack's depth. */
export const MAX_JSON_DEPTH = 64;

/**
 * JSON is the only body type the core routes take (routes that take others — multipart,
 * raw bytes — register their own parser), so Fastify's built-in `text/plain` parser is
 * removed: such a body is a 415 `unsupported_media_type`, as docs/errors.md says.
 *
 * JSON bodies are parsed by Fastify's own parser (prototype poisoning refused), with two
 * differences that generic clients need (issue #14 §5):
 * - an empty body labelled `application/json` is no body at all on routes that take none
 *   (cancel, save, delete) or take one only optionally (rerun): clients that always send the
 *   header must not get a 400 there; it is still a 400 `invalid_body` on routes that expect a body;
 * - values nested deeper than {@link MAX_JSON_DEPTH} are a 422 `invalid_parameter` before any
 *   code walks them recursively (validation messages, hashing, logging).
 */
export function installJsonBody(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') {
      if (takesBody(request)) done(new AtelierError('invalid_body', 'The request body is empty: expected a JSON object'), undefined);
      else done(null, undefined);
      return;
    }
    parseJson(request, body as string, (error, value) => {
      if (error) return done(error, undefined);
      const field = tooDeep(value, MAX_JSON_DEPTH);
      if (field !== undefined) {
        return done(new AtelierError('invalid_parameter', `Expected JSON nested at most ${MAX_JSON_DEPTH} levels deep for ${field} but received deeper nesting`, { field }), undefined);
      }
      done(null, value);
    });
  });
}

/** Whether the route requires a body: it has a body schema, and that schema does not also allow none (null, as rerun's does). */
function takesBody(request: FastifyRequest): boolean {
  const schema = request.routeOptions.schema?.body as { anyOf?: Array<{ type?: unknown }> } | undefined;
  if (schema === undefined) return false;
  return !(schema.anyOf ?? []).some((branch) => branch.type === 'null');
}

/**
 * The top-level field (or `body`) under which `value` nests deeper than `limit`, or undefined.
 * Iterative, so the check itself cannot overflow the stack.
 */
function tooDeep(value: unknown, limit: number): string | undefined {
  const stack: Array<{ value: unknown; depth: number; field: string }> = [{ value, depth: 0, field: 'body' }];
  while (stack.length > 0) {
    const { value: current, depth, field } = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth >= limit) return field;
    const children = Array.isArray(current) ? current.map((item, index) => [String(index), item] as const) : Object.entries(current);
    for (const [key, child] of children) stack.push({ value: child, depth: depth + 1, field: depth === 0 ? key : field });
  }
  return undefined;
}
