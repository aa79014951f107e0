import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AtelierError } from '../../errors/atelier-error.js';
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
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped) return new AtelierError(mapped, mapped === 'invalid_body' ? 'The request body is not valid JSON' : fe.message);
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500 && fe.code?.startsWith('FST_')) {
    return new AtelierError('invalid_body', fe.message);
  }
  return new AtelierError('internal_error', 'Internal server error', { cause: error });
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => sendError(toAtelierError(error, request), error, request, reply));
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ code: 'not_found', message: `No route ${request.method} ${request.url.split('?')[0]}` });
  });
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
