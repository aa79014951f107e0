import type { Job } from 'bullmq';
import { rememberBounded } from '../../lib/remember-bounded.js';

/**
 * The BullMQ jobs this node's claims returned, by job id and lease token, so completing a
 * lease claimed here does not fetch the job back from Redis first (HGETALL and its parse,
 * issue #13). Completing needs only what a job carries from its add (id, options), which never
 * changes afterwards; whether the lease is still the holder's is checked by BullMQ's own
 * script against the lock token, exactly as with a fetched job. A lease completed by another
 * node, or after a restart, fetches as before.
 *
 * Bounded: a job leaves when its lease is completed, failed or canceled here, and the oldest go
 * first beyond `maxEntries` (leases completed elsewhere, holders that died).
 */
export interface ClaimedJobs {
  remember(lane: string, token: string, job: Job): void;
  /** The job claimed here under `token`, taken out; undefined when there is none. */
  take(jobId: string, token: string): { readonly lane: string; readonly job: Job } | undefined;
  forget(jobId: string): void;
}

export function createClaimedJobs(maxEntries: number): ClaimedJobs {
  const claimed = new Map<string, { lane: string; token: string; job: Job }>();
  return {
    remember(lane, token, job) {
      rememberBounded(claimed, job.id!, { lane, token, job }, maxEntries);
    },
    take(jobId, token) {
      const found = claimed.get(jobId);
      if (!found || found.token !== token) return undefined;
      claimed.delete(jobId);
      return { lane: found.lane, job: found.job };
    },
    forget(jobId) {
      claimed.delete(jobId);
    },
  };
}
