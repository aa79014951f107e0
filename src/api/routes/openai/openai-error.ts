import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AtelierError } from '../../../errors/atelier-error.js';
import type { ErrorCode } from '../../../errors/catalog.js';
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
 * Final answers about a run that was submitted: it timed out of the wait and goes on (504),
 * was canceled (409) or failed after its own attempts (500). The `openai` clients retry a 409
 * and any 5xx twice by default, and each retry of a generation would be a new run, so these
 * carry `x-should-retry: false`, which the clients obey.
 */
const FINAL_FOR_THE_RUN: ReadonlySet<ErrorCode> = new Set(['backend_timeout', 'job_canceled', 'job_failed']);

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
  if (FINAL_FOR_THE_RUN.has(mapped.code)) void reply.header('x-should-retry', 'false');
  void reply.code(mapped.status).send(openaiErrorBody(mapped));
}
