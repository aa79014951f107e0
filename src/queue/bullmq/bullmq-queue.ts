import { createHash, randomUUID } from 'node:crypto';
import { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { retryDelayMs } from '../../jobs/backoff.js';
import type { Logger } from '../../observability/logger.js';
import { LOCAL_LANE, laneList } from '../lanes.js';
import { LEASE_RECLAIMED, type EnqueueOptions, type ExpiredLease, type Lease, type Queue, type QueueCounts, type QueueError, type RetryPolicy } from '../queue.js';
import { attemptOf, asError, dueTime, entryOptions, isRefusal, type EntryData } from './bullmq-entries.js';
import { createClaimedJobs } from './claimed-jobs.js';
import { rememberBounded } from '../../lib/remember-bounded.js';
import { bullmqPriority, JOB_NAME } from './bullmq-names.js';
import { createLaneQueues, type LaneQueues } from './lane-queues.js';
import { createStalledJobs, type StalledJobs } from './stalled-jobs.js';
import { createWakeUps } from './wake-ups.js';

export interface BullmqQueueOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://`). */
  readonly redisUrl: string;
  /** Key prefix of every BullMQ key (`<prefix>:jobs-<lane>:…`); default `atelier`. */
  readonly prefix?: string;
  readonly policy: RetryPolicy;
  /** Lock length a claim starts with; a claim for another length extends it at once. Default 30 s. */
  readonly defaultLeaseMs?: number;
  /** How often BullMQ's stalled checker looks for expired leases (once per interval for all nodes). Default 1 s. */
  readonly stalledIntervalMs?: number;
  readonly logger?: Logger;
}

/** The port plus what the composition root needs of Redis (readiness). */
export interface BullmqQueue extends Queue {
  /** Resolves when Redis answers. */
  ping(): Promise<void>;
}

const CANCELED: QueueError = { code: 'canceled', message: 'Canceled' };

/**
 * The start of every lease token a claim by `owner` takes (`<tag>-<uuid>`): BullMQ keeps no
 * owner, but the lock's value is the token, so a restarted node finds its own leases by it.
 */
function ownerTag(owner: string): string {
  return `${createHash('sha256').update(owner).digest('hex').slice(0, 8)}-`;
}
const LANE_CACHE_SIZE = 10_000;
/** Jobs of this node's claims kept for their completion (claimed-jobs.ts). */
const CLAIMED_JOBS_SIZE = 2_000;

/**
 * The Queue port on BullMQ (Redis), for several nodes sharing one queue. Every lane is one
 * BullMQ queue under the prefix; the BullMQ job id is ours, so enqueue is idempotent.
 *
 * - claim: manual processing, `worker.getNextJob(token)` with a fresh token per claim, which
 *   is the lease token; the BullMQ lock is the lease (extendLock = heartbeat).
 * - complete: `moveToCompleted` with the lock token, on the job the claim returned when the
 *   lease was claimed on this node (claimed-jobs.ts), else on the job fetched from Redis.
 * - attempt numbers: `attemptsBefore + attemptsStarted` — BullMQ counts every move to active,
 *   so the number grows with each claim and a stale holder can never share one with the next.
 * - fail: `moveToFailed` with a custom backoff strategy calling retryDelayMs, and
 *   `discard()` when the failure may not retry; `retryAt` is read back from BullMQ's delayed
 *   set, so it is the time BullMQ will release the job.
 * - cancel: a waiting or delayed job is removed; a running one is failed (discarded, so gone
 *   for good) with the holder's lock token — its heartbeat, complete and fail are refused.
 * - counts: `getJobCounts` over every lane (`prioritized` is where our waiting jobs live).
 * - waitForWork: QueueEvents (`waiting`, and `delayed` with its due time) and this process's
 *   own enqueues; no polling.
 *
 * Expired leases, and how they differ from the embedded queue: BullMQ's stalled checker
 * (started per lane with `startStalledCheckTimer`, running once per `stalledIntervalMs` for
 * all nodes) finds jobs whose lock expired and moves them back to wait, first in line.
 * The node whose checker found one then applies our rules: the expired lease counts as an
 * attempt; with attempts left the job is removed and added again with the backoff delay
 * (attempts carried in its data), otherwise removed for good; `recoverExpired` reports
 * these outcomes. Differences: (1) detection takes up to one stalled interval after expiry
 * (two when the lease was taken just before a check), where the embedded queue sees it
 * at once; (2) a lease whose lock expired is refused even before anyone recovers it;
 * (3) in the moment between BullMQ's move and the removal another node may claim the job:
 * it then runs at once, as the next attempt, and nothing is reported (that claim's start
 * records it); if it had no attempts left the claim drops it and the failure is reported; (4) a crash of that node between the removal and the
 * new add loses the entry (not the job: a restart re-enqueues every unfinished job);
 * (5) the outcome is reported by that node's next `recoverExpired`, so a node that never
 * calls it (no runner, no remote lanes) leaves the records to the next attempt.
 *
 * Order across several lanes in one claim is by each lane's first prioritized job
 * (priority, then age); a due delayed job not yet promoted by BullMQ is seen after those.
 *
 * Redis keys: everything is BullMQ's, under `<prefix>:jobs-<lane>:`, except one set of our
 * own, `<prefix>:lanes` (the lanes in use, so any node can count and sweep them all). Two
 * BullMQ structures are read directly, read-only: a job's lock (`<job key>:lock`, whose value
 * is the holder's token, to cancel a running job) and the delayed set's score (the exact
 * retry time). Each lane's enqueue is idempotent per job id; the same id in two lanes
 * would be two entries (the lane of a job never changes: it follows from its backend, see lanes.ts).
 */
export function createBullmqQueue(options: BullmqQueueOptions): BullmqQueue {
  const prefix = options.prefix ?? 'atelier';
  const { policy } = options;
  const log = options.logger;
  const commands = new Redis(options.redisUrl, { maxRetriesPerRequest: 3, connectionName: connectionName(prefix, 'queue') });
  // Workers block on Redis and must wait for it rather than fail (BullMQ requires null).
  const consumers = new Redis(options.redisUrl, { maxRetriesPerRequest: null, connectionName: connectionName(prefix, 'queue-workers') });
  const onError = (error: unknown, where: string) => log?.warn({ err: error, where }, 'BullMQ queue error');
  commands.on('error', (error) => onError(error, 'redis'));
  consumers.on('error', (error) => onError(error, 'redis'));

  const wakeUps = createWakeUps();
  const laneOf = new Map<string, string>();
  const claimedJobs = createClaimedJobs(CLAIMED_JOBS_SIZE);
  // Set once `lanes` exists: the lanes' workers report stalled jobs to it.
  let stalled: StalledJobs | undefined;

  const lanes: LaneQueues = createLaneQueues({
    commands,
    consumers,
    prefix,
    lockDurationMs: options.defaultLeaseMs ?? 30_000,
    stalledIntervalMs: options.stalledIntervalMs ?? 1000,
    // Called by moveToFailed; the delay of attempt n is the embedded queue's.
    backoffStrategy: (_attemptsMade, _type, _error, job) => retryDelayMs(attemptOf(job as Job), policy.backoffBaseMs, policy.backoffMaxMs),
    onStalled: (lane, jobId) => stalled?.found(lane, jobId),
    onError,
  });

  stalled = createStalledJobs({ lanes, commands, policy, wakeUps, forget: (jobId) => laneOf.delete(jobId), onError });

  function remember(jobId: string, lane: string): void {
    rememberBounded(laneOf, jobId, lane, LANE_CACHE_SIZE);
  }

  /** The lane holding the job: known here, or looked up in every lane in one round trip. */
  async function locate(jobId: string, fresh = false): Promise<string | undefined> {
    const known = laneOf.get(jobId);
    if (known && !fresh) return known;
    const all = await lanes.allLanes();
    const pipeline = commands.pipeline();
    for (const lane of all) pipeline.exists(lanes.queue(lane).toKey(jobId));
    const answers = (await pipeline.exec()) ?? [];
    const index = answers.findIndex(([error, exists]) => !error && exists === 1);
    if (index < 0) return undefined;
    remember(jobId, all[index]!);
    return all[index];
  }

  async function fetchJob(jobId: string): Promise<{ lane: string; job: Job } | undefined> {
    const lane = await locate(jobId);
    if (!lane) return undefined;
    const job = await Job.fromId(lanes.worker(lane), jobId);
    return job ? { lane, job } : undefined;
  }

  /** Fails the job held under `token` for good; false when that lease is gone. */
  async function failForGood(job: Job, token: string, error: QueueError): Promise<boolean> {
    job.discard();
    try {
      await job.moveToFailed(asError(error), token, false);
      laneOf.delete(job.id!);
      return true;
    } catch (failure) {
      if (isRefusal(failure)) return false;
      throw failure;
    }
  }

  /** The next job of one lane, as a lease; skips jobs that have no attempt left. */
  async function claimFrom(lane: string, owner: string, leaseMs: number): Promise<Lease | undefined> {
    const worker = lanes.worker(lane);
    for (;;) {
      const token = `${ownerTag(owner)}${randomUUID()}`;
      const job = await worker.getNextJob(token, { block: false });
      if (!job) return undefined;
      const data = job.data as EntryData;
      const attempt = attemptOf(job);
      if (attempt > data.maxAttempts) {
        // Expired on its last attempt and claimed before the recovering node removed it.
        await failForGood(job, token, { code: 'lease_expired', message: 'No attempt left after an expired lease' });
        continue;
      }
      if (leaseMs !== worker.opts.lockDuration && !(await job.extendLock(token, leaseMs))) continue;
      remember(job.id!, lane);
      claimedJobs.remember(lane, token, job);
      return { jobId: job.id!, token, attempt, maxAttempts: data.maxAttempts, expiresAt: Date.now() + leaseMs };
    }
  }

  /** The lanes in the order their first jobs should run: priority, then age. */
  async function byHeadOfLine(list: readonly string[]): Promise<readonly string[]> {
    if (list.length === 1) return list;
    const heads = await Promise.all(list.map(async (lane) => ({ lane, head: (await lanes.queue(lane).getPrioritized(0, 0))[0] })));
    heads.sort((a, b) => {
      if (!a.head || !b.head) return a.head ? -1 : b.head ? 1 : 0;
      return a.head.priority - b.head.priority || a.head.timestamp - b.head.timestamp;
    });
    return heads.map((h) => h.lane);
  }

  return {
    async enqueue(jobId: string, entry: EnqueueOptions) {
      const lane = entry.lane ?? LOCAL_LANE;
      const attemptsBefore = entry.attemptsMade ?? 0;
      const delay = Math.max(0, entry.delayMs ?? 0);
      await lanes.register(lane);
      const data: EntryData = { attemptsBefore, maxAttempts: entry.maxAttempts, lane };
      await lanes.queue(lane).add(JOB_NAME, data, entryOptions(jobId, bullmqPriority(entry.priority), entry.maxAttempts, attemptsBefore, delay));
      remember(jobId, lane);
      if (delay > 0) wakeUps.at(lane, Date.now() + delay);
      else wakeUps.notify(lane);
    },

    async claim(workerId: string, leaseMs: number, wanted?: string | readonly string[]) {
      const list = laneList(wanted);
      wakeUps.claiming(list);
      for (const lane of await byHeadOfLine(list)) {
        const lease = await claimFrom(lane, workerId, leaseMs);
        if (lease) return lease;
      }
      return undefined;
    },

    async heartbeat(lease: Lease, leaseMs: number) {
      const lane = await locate(lease.jobId);
      if (!lane) return false;
      const failed = await lanes.worker(lane).extendJobLocks([lease.jobId], [lease.token], leaseMs);
      return failed.length === 0;
    },

    async complete(lease: Lease) {
      // Claimed here: BullMQ's script checks the lock token all the same, no need to fetch.
      const found = claimedJobs.take(lease.jobId, lease.token) ?? (await fetchJob(lease.jobId));
      if (!found) return false;
      try {
        await found.job.moveToCompleted(null, lease.token, false);
        laneOf.delete(lease.jobId);
        return true;
      } catch (failure) {
        if (isRefusal(failure)) return false;
        throw failure;
      }
    },

    async fail(lease: Lease, error: QueueError, retryable: boolean) {
      claimedJobs.forget(lease.jobId);
      const found = await fetchJob(lease.jobId);
      if (!found) return undefined;
      const { lane, job } = found;
      const data = job.data as EntryData;
      const attempt = attemptOf(job);
      // BullMQ's own count (attempts of this BullMQ job) must agree, or it would not retry.
      const retry = retryable && attempt < data.maxAttempts && job.attemptsMade + 1 < (job.opts.attempts ?? 1);
      if (!retry) return (await failForGood(job, lease.token, error)) ? { kind: 'failed', attempt } : undefined;
      const before = Date.now();
      try {
        await job.moveToFailed(asError(error), lease.token, false);
      } catch (failure) {
        if (isRefusal(failure)) return undefined;
        throw failure;
      }
      const delay = retryDelayMs(attempt, policy.backoffBaseMs, policy.backoffMaxMs);
      const retryAt = delay > 0 ? ((await dueTime(commands, lanes.queue(lane), lease.jobId)) ?? before + delay) : before;
      wakeUps.at(lane, retryAt);
      return { kind: 'retry', retryAt, attempt };
    },

    async cancel(jobId: string) {
      claimedJobs.forget(jobId);
      const lane = await locate(jobId, true);
      if (!lane) return false;
      const queue = lanes.queue(lane);
      // A few rounds: the holder may finish, or the job move, between the two steps.
      for (let round = 0; round < 3; round++) {
        if ((await queue.remove(jobId)) === 1) {
          laneOf.delete(jobId);
          return true;
        }
        // Locked: somebody holds the lease. The lock's value is its token; failing the job
        // with it (discarded: no retry) revokes the lease the way BullMQ does for its holder.
        const token = await commands.get(`${queue.toKey(jobId)}:lock`);
        const job = await Job.fromId(lanes.worker(lane), jobId);
        if (!job) return false;
        if (token && (await failForGood(job, token, CANCELED))) return true;
      }
      return false;
    },

    async recoverExpired() {
      // Every lane needs a stalled checker somewhere; creating the worker starts this node's.
      for (const lane of await lanes.allLanes()) lanes.worker(lane);
      return stalled!.drain();
    },

    async reclaim(owner: string) {
      const tag = ownerTag(owner);
      const reclaimed: ExpiredLease[] = [];
      for (const lane of await lanes.allLanes()) {
        const queue = lanes.queue(lane);
        for (const active of await queue.getActive()) {
          const token = await commands.get(`${queue.toKey(active.id!)}:lock`);
          if (!token?.startsWith(tag)) continue;
          const job = await Job.fromId(lanes.worker(lane), active.id!);
          if (!job) continue;
          const attempt = attemptOf(job);
          if (attempt >= (job.data as EntryData).maxAttempts) {
            if (await failForGood(job, token, LEASE_RECLAIMED)) reclaimed.push({ jobId: job.id!, outcome: { kind: 'failed', attempt }, error: LEASE_RECLAIMED });
            continue;
          }
          try {
            // Back to wait in front of its priority (BullMQ's push-back), with the attempt counted.
            await job.moveToWait(token);
          } catch (failure) {
            if (isRefusal(failure)) continue;
            throw failure;
          }
          wakeUps.notify(lane);
          reclaimed.push({ jobId: job.id!, outcome: { kind: 'retry', retryAt: Date.now(), attempt }, error: LEASE_RECLAIMED });
        }
      }
      return reclaimed;
    },

    async counts(): Promise<QueueCounts> {
      const totals = { waiting: 0, delayed: 0, active: 0 };
      for (const lane of await lanes.allLanes()) {
        const c = await lanes.queue(lane).getJobCounts('wait', 'prioritized', 'paused', 'waiting-children', 'delayed', 'active');
        totals.waiting += (c.wait ?? 0) + (c.prioritized ?? 0) + (c.paused ?? 0) + (c['waiting-children'] ?? 0);
        totals.delayed += c.delayed ?? 0;
        totals.active += c.active ?? 0;
      }
      return totals;
    },

    async waitForWork(timeoutMs: number, signal?: AbortSignal, wanted?: string | readonly string[]) {
      const list = laneList(wanted);
      if (lanes.closed) return;
      for (const lane of list) {
        lanes.queueEvents(lane, (events) => {
          events.on('waiting', () => wakeUps.notify(lane));
          events.on('delayed', ({ delay }) => wakeUps.at(lane, Number(delay)));
        });
      }
      await wakeUps.wait(list, timeoutMs, signal);
    },

    async ping() {
      // Not ready means reconnecting: say so at once rather than wait out the retries.
      if (commands.status !== 'ready') throw new Error(`Redis is not connected (${commands.status})`);
      await commands.ping();
    },

    async close() {
      wakeUps.close();
      await stalled!.drain();
      await lanes.close();
      await Promise.allSettled([commands.quit(), consumers.quit()]);
    },
  };
}

/** Names our connections after the prefix (CLIENT LIST shows whose they are); no spaces allowed. */
function connectionName(prefix: string, role: string): string {
  return `${prefix}:${role}`.replace(/\s/g, '_');
}
