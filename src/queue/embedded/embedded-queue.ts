import { randomUUID } from 'node:crypto';
import type { QueueEntriesRepo } from '../../db/repos/queue-entries-repo.js';
import { retryDelayMs } from '../../jobs/backoff.js';
import { LOCAL_LANE, laneList } from '../lanes.js';
import { LEASE_EXPIRED, LEASE_RECLAIMED, type EnqueueOptions, type ExpiredLease, type FailOutcome, type Lease, type Queue, type QueueCounts, type QueueError, type RetryPolicy } from '../queue.js';


/**
 * The SQL queue: rows in the same database as the job records (SQLite or PostgreSQL, through
 * db/repos/queue-entries-repo.ts, which says how claims and settles stay correct when several
 * processes share the database), so a queued job survives any crash and needs no other
 * service. This adapter decides what the rows mean: attempts, backoff, reclaim, wake-ups.
 *
 * Wake-ups are in-process only: another node's enqueue is seen at this node's next poll.
 */
export function createEmbeddedQueue(entries: QueueEntriesRepo, policy: RetryPolicy, clock: () => number = Date.now): Queue {
  // Runners waiting for work, oldest first. A wake-up goes to ONE waiter of its lane: one new
  // entry needs one claim, and waking every idle runner for it made all but one run an empty
  // claim statement (seven per job with eight runner loops).
  const waiters = new Set<{ readonly lanes: readonly string[]; readonly wake: () => void }>();
  // Lanes with a wake-up nobody took yet: set when no runner was waiting and cleared by a claim
  // on the lane, so a wake-up that lands while a runner is between an empty claim and
  // waitForWork is not lost.
  const pendingWake = new Set<string>();
  const notify = (lane: string) => {
    for (const waiter of waiters) {
      if (!waiter.lanes.includes(lane)) continue;
      waiters.delete(waiter);
      waiter.wake();
      return;
    }
    pendingWake.add(lane);
  };

  return {
    async enqueue(jobId: string, options: EnqueueOptions) {
      const now = clock();
      const lane = options.lane ?? LOCAL_LANE;
      await entries.insert({ jobId, priority: options.priority, lane, availableAt: now + (options.delayMs ?? 0), attemptsMade: options.attemptsMade ?? 0, maxAttempts: options.maxAttempts, now });
      notify(lane);
    },

    async claim(workerId: string, leaseMs: number, lanes?: string | readonly string[]) {
      const list = laneList(lanes);
      for (const lane of list) pendingWake.delete(lane);
      const token = randomUUID();
      const claimed = await entries.claimNext(workerId, token, list, clock(), leaseMs);
      return claimed && { jobId: claimed.jobId, token, attempt: claimed.attempt, maxAttempts: claimed.maxAttempts, expiresAt: claimed.leaseExpiresAt };
    },

    heartbeat: (lease: Lease, leaseMs: number) => entries.extendLease(lease.jobId, lease.token, clock() + leaseMs),

    complete: (lease: Lease) => entries.removeHeld(lease.jobId, lease.token),

    async fail(lease: Lease, error: QueueError, retryable: boolean) {
      const settled = await settleAttempt(lease.jobId, lease.token, error, retryable);
      if (settled?.outcome.kind === 'retry') {
        const { lane } = settled;
        setTimeout(() => notify(lane), Math.max(0, settled.outcome.retryAt - clock())).unref();
      }
      return settled?.outcome;
    },

    cancel: (jobId: string) => entries.remove(jobId),

    async recoverExpired() {
      const recovered: ExpiredLease[] = [];
      for (const entry of await entries.listExpired(clock())) {
        const settled = await settleAttempt(entry.jobId, entry.token, LEASE_EXPIRED, true);
        if (settled) recovered.push({ jobId: entry.jobId, outcome: settled.outcome, error: LEASE_EXPIRED });
        if (settled?.outcome.kind === 'retry') {
          const { lane } = settled;
          setTimeout(() => notify(lane), Math.max(0, settled.outcome.retryAt - clock())).unref();
        }
      }
      return recovered;
    },

    async reclaim(owner: string) {
      const reclaimed: ExpiredLease[] = [];
      for (const entry of await entries.listHeldBy(owner)) {
        // availableAt is untouched since the claim: the entry goes back to its own place.
        const settled = await settleAttempt(entry.jobId, entry.token, LEASE_RECLAIMED, true, entry.availableAt);
        if (!settled) continue;
        reclaimed.push({ jobId: entry.jobId, outcome: settled.outcome, error: LEASE_RECLAIMED });
        notify(settled.lane);
      }
      return reclaimed;
    },

    counts: (): Promise<QueueCounts> => entries.counts(clock()),

    async waitForWork(timeoutMs: number, signal?: AbortSignal, lanes?: string | readonly string[]) {
      const list = laneList(lanes);
      if (list.some((lane) => pendingWake.has(lane)) || signal?.aborted) return;
      // Timed out or aborted: the caller polls again either way.
      await new Promise<void>((resolve) => {
        const done = () => {
          waiters.delete(waiter);
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const waiter = { lanes: list, wake: done };
        // Unref, like AbortSignal.timeout: a waiting runner alone does not keep the process up.
        const timer = setTimeout(done, timeoutMs).unref();
        signal?.addEventListener('abort', done, { once: true });
        waiters.add(waiter);
      });
    },

    async close() {
      for (const waiter of [...waiters]) waiter.wake();
    },
  };

  /** Ends one attempt: back to waiting after backoff (or at `availableAt`), or removed when it may not retry. */
  async function settleAttempt(jobId: string, token: string, error: QueueError, retryable: boolean, availableAt?: number): Promise<{ outcome: FailOutcome; lane: string } | undefined> {
    const now = clock();
    const settled = await entries.settle(jobId, token, ({ attempts, maxAttempts }) =>
      !retryable || attempts >= maxAttempts ? { kind: 'remove' } : { kind: 'retry', availableAt: availableAt ?? now + retryDelayMs(attempts, policy.backoffBaseMs, policy.backoffMaxMs), error },
    );
    if (!settled) return undefined;
    const { attempts, lane, settlement } = settled;
    if (settlement.kind === 'remove') return { outcome: { kind: 'failed', attempt: attempts }, lane };
    // A reclaimed entry is claimable at once (its old place); report it as now.
    return { outcome: { kind: 'retry', retryAt: availableAt === undefined ? settlement.availableAt : now, attempt: attempts }, lane };
  }
}
