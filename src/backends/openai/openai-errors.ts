import type { IncomingHttpHeaders } from 'node:http';
import { RetryableError, UnrecoverableError } from '../../errors/signals.js';
import { parseJsonBody } from '../a1111/http-request.js';

/** OpenAI's error body (PROTOCOLS §3); compatible servers sometimes send a bare string. */
interface OpenAIErrorBody {
  error?: { message?: unknown; type?: unknown; param?: unknown; code?: unknown } | string;
}

/** Refusals by the upstream's safety system: the prompt, not the request, is the problem. */
const POLICY_CODES = new Set(['content_policy_violation', 'moderation_blocked']);

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** The upstream's error fields, with a readable one-line description. */
export function readOpenAIError(body: Buffer, status: number): { message: string; code?: string; type?: string } {
  const parsed = (parseJsonBody(body) ?? {}) as OpenAIErrorBody;
  const error = typeof parsed.error === 'string' ? { message: parsed.error } : parsed.error ?? {};
  const message = str(error.message) ?? (body.length > 0 ? body.toString('utf8', 0, 200) : `HTTP ${status}`);
  const param = str(error.param);
  const code = str(error.code);
  const type = str(error.type);
  return { message: `${message}${param ? ` (param: ${param})` : ''}${code ? ` [${code}]` : ''}`, ...(code ? { code } : {}), ...(type ? { type } : {}) };
}

/**
 * The signal error for a non-2xx answer from an OpenAI-compatible images API.
 * 401/403 and an exhausted quota need an operator, not another attempt (unrecoverable
 * `backend_failed`); a safety refusal is `prompt_refused`; other 4xx are `backend_rejected`
 * with the upstream's message; 408, 409, 429 and 5xx are retryable. `Retry-After` is only
 * reported in the message: the runner's backoff decides when to try again.
 */
export function openAIHttpError(where: string, status: number, headers: IncomingHttpHeaders, body: Buffer): Error {
  const { message, code, type } = readOpenAIError(body, status);
  if (status === 401 || status === 403) {
    return new UnrecoverableError(`${where}: the upstream rejected the API key (HTTP ${status}): ${message}`, 'backend_failed');
  }
  if (status === 429 && (code === 'insufficient_quota' || type === 'insufficient_quota')) {
    return new UnrecoverableError(`${where}: the upstream account is out of quota: ${message}`, 'backend_failed');
  }
  if (status === 408 || status === 409 || status === 429 || status >= 500) {
    const retryAfter = str(headers['retry-after-ms']) ? `${String(headers['retry-after-ms'])} ms` : str(headers['retry-after']) ? `${String(headers['retry-after'])} s` : undefined;
    return new RetryableError(`${where} failed (HTTP ${status}): ${message}${retryAfter ? `; it asks to retry after ${retryAfter}` : ''}`, 'backend_failed');
  }
  if (code !== undefined && POLICY_CODES.has(code)) {
    return new UnrecoverableError(`${where}: the upstream refused the prompt: ${message}`, 'prompt_refused');
  }
  return new UnrecoverableError(`${where} refused the request (HTTP ${status}): ${message}`, 'backend_rejected');
}
