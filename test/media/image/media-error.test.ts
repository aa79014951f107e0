import { describe, expect, it } from 'vitest';
import { AtelierError } from '../../../src/errors/atelier-error.js';
import { classifyMediaError, MediaError } from '../../../src/media/image/media-error.js';

describe('classifyMediaError', () => {
  it('keeps the class of a MediaError', () => {
    for (const errorClass of ['source', 'processing', 'storage', 'memory'] as const) {
      expect(classifyMediaError(new MediaError(errorClass, 'x'))).toBe(errorClass);
    }
  });

  it('recognises allocation failures as memory', () => {
    expect(classifyMediaError(new RangeError('Array buffer allocation failed'))).toBe('memory');
    expect(classifyMediaError(Object.assign(new Error('x'), { code: 'ERR_MEMORY_ALLOCATION_FAILED' }))).toBe('memory');
    expect(classifyMediaError(new Error('vips_malloc: out of memory'))).toBe('memory');
  });

  it('recognises storage failures', () => {
    expect(classifyMediaError(new AtelierError('storage_failed'))).toBe('storage');
    expect(classifyMediaError(Object.assign(new Error('no space left'), { code: 'ENOSPC' }))).toBe('storage');
  });

  it('calls anything else a processing error', () => {
    expect(classifyMediaError(new Error('something odd'))).toBe('processing');
    expect(classifyMediaError('a thrown string')).toBe('processing');
    expect(classifyMediaError(undefined)).toBe('processing');
  });
});
