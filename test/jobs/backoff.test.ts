import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../src/jobs/backoff.js';
import { seedForImage, MAX_SEED } from '../../src/jobs/job-spec.js';

describe('retryDelayMs', () => {
  it('doubles from the base and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => retryDelayMs(a, 1000, 10_000))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });
});

describe('seedForImage', () => {
  it('gives image i of a batch seed + i, wrapping at 2^32', () => {
    expect(seedForImage({ seed: 10 }, 3)).toBe(13);
    expect(seedForImage({ seed: MAX_SEED }, 1)).toBe(0);
  });
});
