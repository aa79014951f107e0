/**
 * Exponential backoff before retry `attempt` (1-based: the delay after the first failure is
 * `baseMs`), capped at `maxMs`.
 */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
