/**
 * A per-instance circuit breaker: after `failureThreshold` consecutive failures the instance
 * is skipped for `cooldownMs`; then one trial request decides whether it closes again.
 */
export function createCircuitBreaker(options: { failureThreshold: number; cooldownMs: number }, clock: () => number = Date.now) {
  let failures = 0;
  let openedAt: number | undefined;
  let trialInFlight = false;
  let shortcutSpent = false;
  return {
    /** May a request go to this instance now? Claims the half-open trial when it is due. */
    tryAcquire(): boolean {
      if (openedAt === undefined) return true;
      if (clock() - openedAt < options.cooldownMs || trialInFlight) return false;
      trialInFlight = true;
      return true;
    },
    /**
     * The instance answered a probe (it restarted): the next request may be the trial now, not
     * after the cooldown — once until a request succeeds, so an instance that answers probes but
     * fails its jobs is still tried only once per cooldown.
     */
    probed(): void {
      if (openedAt === undefined || trialInFlight || shortcutSpent) return;
      shortcutSpent = true;
      openedAt = Math.min(openedAt, clock() - options.cooldownMs);
    },
    success(): void {
      shortcutSpent = false;
      failures = 0;
      openedAt = undefined;
      trialInFlight = false;
    },
    failure(): void {
      failures++;
      trialInFlight = false;
      if (openedAt !== undefined || failures >= options.failureThreshold) openedAt = clock();
    },
    get state(): 'closed' | 'open' | 'half-open' {
      if (openedAt === undefined) return 'closed';
      return clock() - openedAt < options.cooldownMs ? 'open' : 'half-open';
    },
  };
}

export type CircuitBreaker = ReturnType<typeof createCircuitBreaker>;
