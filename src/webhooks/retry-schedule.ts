/** When a delivery whose attempt failed is tried again, and when it is given up. */
export interface RetrySchedule {
  /** Delay after the first failed attempt. */
  readonly firstDelayMs: number;
  /** Longest delay between attempts. */
  readonly maxDelayMs: number;
  /** A delivery older than this whose attempt fails is given up. */
  readonly giveUpAfterMs: number;
}

/** About 5 s, doubling up to an hour, for at least 24 h: about 33 attempts. */
export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = { firstDelayMs: 5_000, maxDelayMs: 3_600_000, giveUpAfterMs: 24 * 3_600_000 };

/** ±20 %: deliveries that failed together (a receiver's outage) do not all come back together. */
const JITTER = 0.2;

/**
 * What follows the failed attempt number `attempt` (1 = the first) of a delivery created at
 * `createdAt`: undefined to give up — it has been tried for `giveUpAfterMs` — or when to try
 * next: `firstDelayMs · 2^(attempt−1)`, jittered, capped at `maxDelayMs`.
 *
 * @example nextAttemptAt(1, created, created + 300, DEFAULT_RETRY_SCHEDULE, () => 0.5) // created + 5300
 */
export function nextAttemptAt(attempt: number, createdAt: number, now: number, schedule: RetrySchedule = DEFAULT_RETRY_SCHEDULE, random: () => number = Math.random): number | undefined {
  if (now - createdAt >= schedule.giveUpAfterMs) return undefined;
  const base = Math.min(schedule.firstDelayMs * 2 ** Math.min(attempt - 1, 40), schedule.maxDelayMs);
  const jittered = base * (1 - JITTER + 2 * JITTER * random());
  return now + Math.round(Math.min(jittered, schedule.maxDelayMs));
}
