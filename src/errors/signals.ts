/**
 * Signal errors tell the runner what to do with a failed attempt, BullMQ-style: the runner
 * branches on the class, never on message text. Anything else thrown by a backend is treated
 * as retryable.
 */
import type { ErrorCode } from './catalog.js';

/** The job can never succeed (bad parameters for this backend, corrupt input): fail now. */
export class UnrecoverableError extends Error {
  readonly code: ErrorCode;
  constructor(message: string, code: ErrorCode = 'job_failed', opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = 'UnrecoverableError';
    this.code = code;
  }
}

/** A transient failure (backend down, timeout): retry with backoff if attempts remain. */
export class RetryableError extends Error {
  readonly code: ErrorCode;
  constructor(message: string, code: ErrorCode = 'backend_failed', opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = 'RetryableError';
    this.code = code;
  }
}

/** The job was canceled while running; the attempt stops without a retry. */
export class CanceledError extends Error {
  constructor(message = 'The job was canceled') {
    super(message);
    this.name = 'CanceledError';
  }
}
