import type { FastifyInstance } from 'fastify';
import { createAjv } from '../../validation/create-ajv.js';

/**
 * Bodies are validated strictly (no coercion, unknown fields rejected); everything that
 * arrives as text — query, params, headers — is coerced. One schema both validates and
 * documents each route.
 */
export function installValidation(app: FastifyInstance): void {
  const strict = createAjv('strict');
  const coercing = createAjv('coercing');
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));
}
