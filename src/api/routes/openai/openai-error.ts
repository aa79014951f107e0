import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AtelierError } from '../../../errors/atelier-error.js';
import { setRetryAfter, toAtelierError } from '../../plugins/error-handler.js';

/** OpenAI's error body; `code` is the catalog's code (docs/errors.md), `param` its field. */
export const OpenAIError = Type.Object({
  error: Type.Object({
    message: Type.String(),
    type: Type.String(),
    param: Type.Union([Type.String(), Type.Null()]),
    code: Type.Union([Type.String(), Type.Null()]),
  }),
});

export const openaiErrorResponses = { '4xx': OpenAIError, '5xx': OpenAIError } as const;

/** The `type` OpenAI gives an error of this status; clients branch on the status. */
function openaiErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** An AtelierError in OpenAI's `{error: {message, type, param, code}}` shape. */
export function openaiErrorBody(error: AtelierError) {
  return { error: { message: error.message, type: openaiErrorType(error.status), param: error.field ?? null, code: error.code } };
}

/**
 * The error handler of the /v1 scope: anything thrown becomes a catalog error (as on /api),
 * answered in OpenAI's shape so the official clients raise their typed errors.
 */
export function sendOpenAIError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  let mapped: AtelierError;
  try {
    mapped = toAtelierError(error, request);
  } catch (failure) {
    mapped = new AtelierError('internal_error', 'Internal server error', { cause: failure });
  }
  if (mapped.status >= 500) request.log.error({ err: error }, 'request failed');
  setRetryAfter(mapped, reply);
  void reply.code(mapped.status).send(openaiErrorBody(mapped));
}
