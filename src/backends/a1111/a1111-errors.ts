import { RetryableError, UnrecoverableError } from '../../errors/signals.js';
import { parseJsonBody } from './http-request.js';

/** A1111's error body (api.py `handle_exception`) or FastAPI's validation body. */
interface A1111ErrorBody {
  error?: unknown;
  detail?: unknown;
  errors?: unknown;
}

/** FastAPI's 422 items: `{loc: ['body', 'steps'], msg, type}`. */
interface ValidationItem {
  loc?: unknown[];
  msg?: unknown;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

/** "steps: value is not a valid integer; width: …" from FastAPI's detail list. */
function describeValidation(items: ValidationItem[]): string {
  return items
    .map((item) => {
      const field = (item.loc ?? []).filter((part) => part !== 'body').join('.');
      return `${field || 'request'}: ${text(item.msg) ?? 'invalid'}`;
    })
    .join('; ');
}

/**
 * The signal error for a non-2xx answer. A 4xx is the request's fault and would fail again
 * (unrecoverable; `backend_failed` for credentials and a missing API, which are the
 * configuration's fault); 408, 429 and 5xx (CUDA out of memory, a crashed extension) may pass
 * on another attempt (retryable).
 */
export function a1111HttpError(where: string, status: number, body: Buffer): Error {
  const parsed = (parseJsonBody(body) ?? {}) as A1111ErrorBody;
  const detail = parsed.detail;
  if (status === 422 && Array.isArray(detail)) {
    return new UnrecoverableError(`${where} refused the request: ${describeValidation(detail as ValidationItem[])}`, 'backend_rejected');
  }
  const reason = text(detail) ?? text(parsed.errors) ?? text(parsed.error) ?? (body.length > 0 ? body.toString('utf8', 0, 200) : `HTTP ${status}`);
  if (status === 401 || status === 403) {
    return new UnrecoverableError(`${where} rejected the credentials (HTTP ${status}: ${reason}); check the backend's auth against A1111's --api-auth`, 'backend_failed');
  }
  if (status === 404) {
    const said = text(detail);
    // A1111 1.8's api.py validate_sampler_name (1.9+ falls back silently instead).
    if (said === 'Sampler not found') return new UnrecoverableError(`${where} refused the request: it has no such sampler (HTTP 404: Sampler not found)`, 'backend_rejected');
    // FastAPI's answer for a route that does not exist (or a proxy's page): no API there.
    if (said === undefined || said === 'Not Found') return new UnrecoverableError(`${where} answered 404 (${reason}); is the web UI started with --api?`, 'backend_failed');
    // Something the request names that A1111 reports missing ("Init image not found"…).
    return new UnrecoverableError(`${where} refused the request (HTTP 404): ${said}`, 'backend_rejected');
  }
  if (status === 408 || status === 429 || status >= 500) {
    return new RetryableError(`${where} failed (HTTP ${status}): ${reason}`, 'backend_failed');
  }
  return new UnrecoverableError(`${where} refused the request (HTTP ${status}): ${reason}`, 'backend_rejected');
}
