import { AtelierError } from '../errors/atelier-error.js';
import { RetryableError, UnrecoverableError } from '../errors/signals.js';
import { MediaError } from '../media/image/media-error.js';

export interface ClassifiedError {
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
}

/**
 * Decides what a failed attempt means, by error class only. Client errors (4xx codes) and
 * UnrecoverableError never retry; RetryableError and anything unexpected do, so a crashing
 * backend gets another chance but a bad request does not burn attempts.
 */
export function classifyError(error: unknown): ClassifiedError {
  if (error instanceof UnrecoverableError) return { code: error.code, message: error.message, retryable: false };
  if (error instanceof RetryableError) return { code: error.code, message: error.message, retryable: true };
  if (error instanceof AtelierError) return { code: error.code, message: error.message, retryable: error.status >= 500 };
  // Post-processing (seed 004's classes): a bad source or a failed encode will fail again;
  // storage and memory trouble may pass.
  if (error instanceof MediaError) {
    const retryable = error.errorClass === 'storage' || error.errorClass === 'memory';
    return { code: error.errorClass === 'source' ? 'invalid_image' : retryable ? 'storage_failed' : 'job_failed', message: error.message, retryable };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'job_failed', message: message || 'The job failed', retryable: true };
}
