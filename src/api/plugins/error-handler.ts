import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AtelierError, describeValue } from '../../errors/atelier-error.js';
import { ajvErrorsToAtelierError } from '../../validation/format-ajv-error.js';

const FASTIFY_CODES: Record<string, AtelierError['code']> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_body',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_body',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_body',
};

/**
 * Turns anything thrown into an AtelierError: our own pass through, validation and
 * body-parsing failures map to their codes, and everything else becomes a logged 500 whose
 * body says nothing about the internals.
 */
export function toAtelierError(error: unknown, request: FastifyRequest): AtelierError {
  if (error instanceof AtelierError) return error;
  const fe = error as FastifyError & { validationContext?: string };
  if (fe.validation && fe.validation.length > 0) {
    const context = fe.validationContext ?? 'body';
    const data = (request as unknown as Record<string, unknown>)[context === 'querystring' ? 'query' : context];
    return ajvErrorsToAtelierError(fe.validation as never, data);
  }
  if (fe.code === 'FST_ERR_BAD_URL') return new AtelierError('invalid_path', 'Expected a path of valid percent-encoded UTF-8 but a segment is not');
  if (fe.code === 'FST_ERR_MAX_PARAM_LENGTH') return new AtelierError('path_too_long', `Expected path segments of at most ${MAX_PARAM_LENGTH} characters`);
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new AtelierError('unsupported_media_type', `This route does not take a body of type ${describeValue(request.headers['content-type'] ?? '')}`);
  }
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' && request.routeOptions.bodyLimit !== undefined) {
    return new AtelierError('body_too_large', `Expected a body of at most ${request.routeOptions.bodyLimit} bytes`);
  }
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped) return new AtelierError(mapped, mapped === 'invalid_body' ? 'The request body is not valid JSON' : fe.message);
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500 && fe.code?.startsWith('FST_')) {
    return new AtelierError('invalid_body', fe.message);
  }
  return new AtelierError('internal_error', 'Internal server error', { cause: error });
}

/** The router's limit on one path parameter (Fastify's default); ids are 64 characters at most. */
export const MAX_PARAM_LENGTH = 100;

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ code: 'not_found', message: `No route ${request.method} ${request.url.split('?')[0]}` });
  });
}

/**
 * Errors the router raises before any route runs (a path segment that is not valid UTF-8, or
 * longer than {@link MAX_PARAM_LENGTH}); Fastify's `frameworkErrors` option, so they get the
 * catalog's body instead of Fastify's own.
 */
export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  let mapped: AtelierError;
  try {
    mapped = toAtelierError(error, request);
  } catch (failure) {
    // Describing the error failed (it never should): still answer in the catalog's shape.
    mapped = new AtelierError('internal_error', 'Internal server error', { cause: failure });
  }
  sendError(mapped, error, request, reply);
}

function sendError(error: AtelierError, original: unknown, request: FastifyRequest, reply: FastifyReply): void {
  if (error.status >= 500) request.log.error({ err: original }, 'request failed');
  setRetryAfter(error, reply);
  void reply.code(error.status).send(error.toJSON());
}

/** A refusal that says when to come back (rate limits) carries it as Retry-After. */
export function setRetryAfter(error: AtelierError, reply: FastifyReply): void {
  const seconds = error.details?.retryAfterSeconds;
  if (typeof seconds === 'number') void reply.header('retry-after', String(Math.max(1, Math.ceil(seconds))));
}
