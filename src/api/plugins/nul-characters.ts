import type { FastifyInstance } from 'fastify';
import { AtelierError, describeValue } from '../../errors/atelier-error.js';
import { findNulCharacter } from '../../validation/find-nul-character.js';

/**
 * Refuses text holding a NUL character (U+0000) in a path parameter, the query string or a
 * JSON body with a 422 `invalid_parameter` naming the field, before any route sees it. Such
 * text used to reach PostgreSQL, which refuses it in every text column (a 500 on a prompt, a
 * user name, a history search or a run id), or — on SQLite — a run's PNG text chunk, which
 * failed every attempt of the run. Multipart forms are read by their routes, which check
 * their fields with the same function.
 */
export function refuseNulCharacters(app: FastifyInstance): void {
  app.addHook('preValidation', (request, _reply, done) => {
    // The query parser's records have a prototype of their own (not Object's), which the
    // check would pass over as not JSON: copied into plain objects, they are looked into.
    const found = findNulCharacter({ ...(request.params as object) }) ?? findNulCharacter({ ...(request.query as object) }) ?? findNulCharacter(request.body);
    done(found === undefined ? undefined : nulCharacterError(found));
  });
}

/** The refusal of text holding a NUL character at `field`. */
export function nulCharacterError(found: { field: string; value: string }): AtelierError {
  const field = found.field || 'body';
  return new AtelierError('invalid_parameter', `Expected text without NUL characters for ${field} but received ${describeValue(found.value)}`, { field });
}
