import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_SCHEDULE, nextAttemptAt } from '../../src/webhooks/retry-schedule.js';

const T0 = 1_767_225_600_000;

describe('nextAttemptAt', () => {
  it('waits 5 s after the first failure, doubling, never more than an hour, jittered by at most 20 %', () => {
    const exact = (attempt: number) => nextAttemptAt(attempt, T0, T0, DEFAULT_RETRY_SCHEDULE, () => 0.5)! - T0;
    expect([1, 2, 3, 4, 10, 11, 12, 30, 500].map(exact)).toEqual([5_000, 10_000, 20_000, 40_000, 2_560_000, 3_600_000, 3_600_000, 3_600_000, 3_600_000]);
    expect(nextAttemptAt(1, T0, T0, DEFAULT_RETRY_SCHEDULE, () => 0)! - T0).toBe(4_000);
    expect(nextAttemptAt(1, T0, T0, DEFAULT_RETRY_SCHEDULE, () => 0.999999)! - T0).toBe(6_000);
    // The cap holds with jitter too.
    expect(nextAttemptAt(20, T0, T0, DEFAULT_RETRY_SCHEDULE, () => 0.999999)! - T0).toBe(3_600_000);
    expect(nextAttemptAt(20, T0, T0, DEFAULT_RETRY_SCHEDULE, () => 0)! - T0).toBe(2_880_000);
  });

  it('gives up once the delivery has been tried for the whole window (24 h by default)', () => {
    expect(nextAttemptAt(30, T0, T0 + 24 * 3_600_000 - 1, DEFAULT_RETRY_SCHEDULE, () => 0.5)).toBe(T0 + 25 * 3_600_000 - 1);
    expect(nextAttemptAt(30, T0, T0 + 24 * 3_600_000, DEFAULT_RETRY_SCHEDULE, () => 0.5)).toBeUndefined();
    expect(nextAttemptAt(3, T0, T0 + 2 * 3_600_000, { ...DEFAULT_RETRY_SCHEDULE, giveUpAfterMs: 3_600_000 })).toBeUndefined();
  });
});
