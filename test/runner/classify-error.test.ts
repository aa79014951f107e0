import { describe, expect, it } from 'vitest';
import { AtelierError } from '../../src/errors/atelier-error.js';
import { RetryableError, UnrecoverableError } from '../../src/errors/signals.js';
import { classifyError } from '../../src/runner/classify-error.js';
import { MediaError } from '../../src/media/image/media-error.js';

describe('classifyError', () => {
  it('classifies post-processing failures by their media error class', () => {
    expect(classifyError(new MediaError('source', 'truncated PNG'))).toEqual({ code: 'invalid_image', message: 'truncated PNG', retryable: false });
    expect(classifyError(new MediaError('processing', 'encode failed'))).toMatchObject({ code: 'job_failed', retryable: false });
    expect(classifyError(new MediaError('storage', 'ENOSPC'))).toMatchObject({ code: 'storage_failed', retryable: true });
    expect(classifyError(new MediaError('memory', 'out of memory'))).toMatchObject({ retryable: true });
  });

  it('never retries an unrecoverable error or a client error', () => {
    expect(classifyError(new UnrecoverableError('bad', 'invalid_parameter'))).toEqual({ code: 'invalid_parameter', message: 'bad', retryable: false });
    expect(classifyError(new AtelierError('invalid_parameter', 'nope')).retryable).toBe(false);
  });

  it('retries signalled, server-side and unexpected errors', () => {
    expect(classifyError(new RetryableError('down', 'backend_timeout'))).toEqual({ code: 'backend_timeout', message: 'down', retryable: true });
    expect(classifyError(new AtelierError('storage_failed')).retryable).toBe(true);
    expect(classifyError(new TypeError('undefined is not a function'))).toEqual({ code: 'job_failed', message: 'undefined is not a function', retryable: true });
    expect(classifyError('weird')).toMatchObject({ code: 'job_failed', retryable: true });
  });
});
