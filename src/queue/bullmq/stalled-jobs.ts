import { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { retryDelayMs } from '../../jobs/backoff.js';
import { LEASE_EXPIRED, type ExpiredLease, type FailOutcome, type RetryPolicy } from '../queue.js';
import { attemptOf, dueTime, entryOptions, type EntryData } from './bullmq-entries.js';
import { bullmqPriority, JOB_NAME } from './bullmq-names.js';
import type { LaneQueues } from './lane-queues.js';
import type { WakeUps } from './wake-ups.js';


export interface StalledJobsDeps {
  readonly lanes: LaneQueues;
  readonly commands: Redis;
  readonly policy: RetryPolicy;
  readonly wakeUps: WakeUps;
  /** The job left the queue for good. */
  readonly forget: (jobId: string) => void;
  readonly onError: (error: unknown, where: string) => void;
}

/**
 * Expired leases, as BullMQ's stalled checker finds them on this node: each is settled by our
 * rules (see bullmq-queue.ts) as soon as it is found, and the outcomes wait for the next
 * `recoverExpired` to report them.
 */
export function createStalledJobs(deps: StalledJobsDeps) {
  const { lanes, commands, policy, wakeUps } = deps;
  const settled: ExpiredLease[] = [];
  const settling = new Set<Promise<void>>();

  /** Applies our rules to a job BullMQ's stalled checker just moved back to wait, first in line. */
  async function settle(lane: string, jobId: string): Promise<void> {
    const queue = lanes.queue(lane);
    const job = await Job.fromId(lanes.worker(lane), jobId);
    if (!job) return;
    const data = job.data as EntryData;
    const attempt = attemptOf(job);
    // Not removed when a claim took it in between (before or after the read above): that
    // claim is the next attempt, and its start records it — reporting the expiry would put
    // the running attempt's record back to queued, or fail its last one. Only a claim that had
    // no attempt left, and so dropped the job, leaves the failure to report here.
    const removed = (await queue.remove(jobId)) === 1;
    let outcome: FailOutcome;
    if (!removed) {
      const now = await Job.fromId(lanes.worker(lane), jobId);
      if (now && attemptOf(now) <= data.maxAttempts) return;
      outcome = { kind: 'failed', attempt };
      deps.forget(jobId);
    } else if (attempt >= data.maxAttempts) {
      outcome = { kind: 'failed', attempt };
      deps.forget(jobId);
    } else {
      // Back after the backoff, as a new BullMQ job carrying the attempts spent.
      const delay = retryDelayMs(attempt, policy.backoffBaseMs, policy.backoffMaxMs);
      const estimate = Date.now() + delay;
      await queue.add(JOB_NAME, { ...data, attemptsBefore: attempt }, entryOptions(jobId, job.opts.priority ?? bullmqPriority(0), data.maxAttempts, attempt, delay));
      const retryAt = delay > 0 ? ((await dueTime(commands, queue, jobId)) ?? estimate) : estimate;
      wakeUps.at(lane, retryAt);
      outcome = { kind: 'retry', retryAt, attempt };
    }
    settled.push({ jobId, outcome, error: LEASE_EXPIRED });
  }

  return {
    /** Called by a lane's worker for each job its stalled checker moved back. */
    found(lane: string, jobId: string): void {
      const work = settle(lane, jobId).catch((error: unknown) => deps.onError(error, `stalled job ${jobId}`));
      settling.add(work);
      void work.finally(() => settling.delete(work));
    },
    /** The outcomes settled since the last call (waiting for those being settled now). */
    async drain(): Promise<ExpiredLease[]> {
      await Promise.allSettled([...settling]);
      return settled.splice(0);
    },
  };
}

export type StalledJobs = ReturnType<typeof createStalledJobs>;
