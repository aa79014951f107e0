import type { GeneratedOutput } from '../backends/backend.js';
import type { ModelRegistry } from '../backends/model-registry.js';
import type { JobsRepo, LoggedChange } from '../db/repos/jobs-repo.js';
import type { JobRow, NewAssetRow } from '../db/schema.js';
import type { JobEvents } from '../events/job-events.js';
import { isTerminal, type JobStatus } from '../jobs/job-status.js';
import type { JobSpec } from '../jobs/job-spec.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { FailOutcome, Lease, Queue, QueueError } from '../queue/queue.js';
import type { Storage } from '../storage/storage.js';
import type { ClassifiedError } from './classify-error.js';
import { storeOptionsFor, type StoreOptionsDeps } from './store-options.js';
import { removeOutputs, storeOutputs } from './store-outputs.js';

export interface AttemptPipelineDeps {
  readonly queue: Queue;
  readonly jobs: JobsRepo;
  readonly events: JobEvents;
  readonly storage: Storage;
  readonly registry: Pick<ModelRegistry, 'resolve'>;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /**
   * Called after a run's success is committed (prompt cache, evaluation), with the outputs
   * the assets were made from (still in memory: no reading back). Its failures are logged;
   * they never fail the run.
   */
  readonly onSucceeded?: (job: JobRow, spec: JobSpec, assets: readonly NewAssetRow[], outputs: readonly GeneratedOutput[]) => Promise<void>;
  /** Delivery presets by model, media metrics and the safety scan by model; defaults to the stable-diffusion preset and no scan. */
  readonly media?: StoreOptionsDeps['media'];
  readonly workspaceTtlMs: number;
  readonly clock?: () => number;
}

/** One attempt at a job: the lease that holds it and the job as it was when it started. */
export interface Attempt {
  readonly job: JobRow;
  readonly spec: JobSpec;
  readonly lease: Lease;
}

/** What became of a commit: the job's assets, or the job as someone else left it. */
export type CommitResult =
  | { readonly kind: 'succeeded'; readonly assets: readonly NewAssetRow[] }
  | { readonly kind: 'lost'; readonly status: JobStatus | 'deleted' };

/** What became of a failed attempt; `lost` when the lease was already gone. */
export type FailResult = { readonly kind: 'lost' } | (FailOutcome & { readonly error: QueueError });

/** The one path of every attempt (see {@link createAttemptPipeline}). */
export interface AttemptPipeline {
  /**
   * Turns a fresh lease into a running attempt: the record says running (guarded by the
   * attempt) and `running` is emitted. Undefined when the job was canceled or finished while
   * queued; its queue entry is then removed.
   */
  begin(lease: Lease, owner: string): Promise<Attempt | undefined>;
  /** Extends the lease in the queue and the record; false when it is lost. */
  keepLease(attempt: Attempt, leaseMs: number): Promise<boolean>;
  /**
   * Renews the lease in the queue only — the check that a caller about to commit still holds
   * it; the record's lease expiry (informational) is left to the heartbeats. False when lost.
   */
  confirmLease(attempt: Attempt, leaseMs: number): Promise<boolean>;
  /**
   * Keeps the lease every third of it until the returned function is called; `onLost` runs
   * if the queue refuses a heartbeat (canceled, or taken after expiry).
   */
  holdLease(attempt: Attempt, leaseMs: number, onLost: () => void): () => void;
  /** Records progress and emits it (guarded by the attempt). */
  progress(attempt: Attempt, step: number, totalSteps: number): Promise<void>;
  /**
   * Stores the outputs and commits them: files first, then assets + success in one
   * transaction guarded by the attempt, then `succeeded`; the hook and the removal of the
   * queue entry follow without holding up the caller (see `settle`).
   * Throws what storing or committing throws, leaving no file behind unless the record shows
   * the commit happened; `lost` when the attempt no longer owns the job, with its files
   * removed when nobody else can own them. `signal` aborted before the commit counts as lost.
   */
  commit(attempt: Attempt, outputs: readonly GeneratedOutput[], signal?: AbortSignal): Promise<CommitResult>;
  /** The attempt stopped without outputs (canceled, lease lost): counts a cancel once. */
  abandon(attempt: Attempt): Promise<JobStatus | 'deleted'>;
  /**
   * Ends the attempt as failed: the queue retries it after backoff while attempts remain and
   * the error is retryable, otherwise the job fails; the record and events follow.
   */
  fail(attempt: Attempt, failure: ClassifiedError): Promise<FailResult>;
  /** Applies expiry to leases whose holder stopped heartbeating, and records the outcomes. */
  recoverExpired(): Promise<void>;
  /**
   * Takes back the leases `owner` (this node's previous incarnation) still holds: each counts
   * as an attempt and runs again at once, in its place in the queue. Returns how many.
   */
  reclaim(owner: string): Promise<number>;
  /** Settles a lease nobody will run (a claim whose worker hung up). */
  giveBack(lease: Lease, error: QueueError): Promise<void>;
  /** Waits for what committed attempts still do after answering (at shutdown, before the queue closes). */
  settle(): Promise<void>;
  /** Counts a job canceled while it ran, once, however many holders notice it. */
  observeCanceled(job: Pick<JobRow, 'id' | 'model' | 'created_at'>): void;
}

/**
 * The one path every attempt takes, whoever runs it — the in-process runner or a remote
 * worker's completion callback: begin (the record says running), keep the lease, then either
 * commit (outputs stored, then assets + success in one transaction guarded by the attempt,
 * then events, hook and queue) or fail (the queue decides retry or failure, the record
 * follows). An attempt that turns out not to own its job any more removes the files it wrote
 * when nobody else can own them. Lease expiry and a restarted node's reclaim settle through
 * the same records.
 *
 * @example
 * const attempt = await pipeline.begin(lease, 'node-1');
 * if (attempt) await pipeline.commit(attempt, await backend.generate(attempt.spec, ctx));
 */
export function createAttemptPipeline(deps: AttemptPipelineDeps): AttemptPipeline {
  const clock = deps.clock ?? Date.now;
  /** Jobs whose cancel while running was counted, so each is counted once. */
  const canceledCounted = new Set<string>();
  /** What commits left running after answering: the hook and the queue entry's removal. */
  const tails = new Set<Promise<void>>();
  const track = (tail: Promise<void>) => {
    tails.add(tail);
    void tail.finally(() => tails.delete(tail));
  };

  function observeFinished(job: Pick<JobRow, 'model' | 'created_at'>, status: 'succeeded' | 'failed' | 'canceled'): void {
    deps.metrics.jobsFinished.inc({ status, model: job.model });
    deps.metrics.jobDuration.observe({ status, model: job.model }, (clock() - Number(job.created_at)) / 1000);
  }

  /** Counts a job canceled while it ran, once, however many holders notice it. */
  function observeCanceled(job: Pick<JobRow, 'id' | 'model' | 'created_at'>): void {
    if (canceledCounted.has(job.id)) return;
    canceledCounted.add(job.id);
    if (canceledCounted.size > 10_000) canceledCounted.delete(canceledCounted.values().next().value!);
    observeFinished(job, 'canceled');
  }

  /** Mirrors a settled attempt into the record and its event log. */
  async function record(job: JobRow, outcome: FailOutcome, error: QueueError): Promise<void> {
    if (outcome.kind === 'retry') {
      if (await deps.jobs.requeue(job.id, error.code, error.message, clock(), outcome.attempt)) {
        deps.metrics.attemptsRetried.inc({ code: error.code });
        await deps.events.emit(job, 'retrying', { attempt: outcome.attempt, retryAt: new Date(outcome.retryAt).toISOString(), error });
      }
    } else if (await deps.jobs.fail(job.id, error.code, error.message, clock())) {
      await deps.events.emit(job, 'failed', { error });
      observeFinished(job, 'failed');
    }
  }

  /** Settles attempts the queue ended without their holder (expired, reclaimed, given back). */
  async function recordSettled(settled: readonly { jobId: string; outcome: FailOutcome; error: QueueError }[]): Promise<void> {
    for (const { jobId, outcome, error } of settled) {
      const job = await deps.jobs.findById(jobId);
      if (!job) continue;
      deps.logger.warn({ jobId, outcome: outcome.kind, code: error.code }, 'attempt ended without its holder');
      await record(job, outcome, error);
    }
  }

  /** Removes the files of an attempt that does not own its job, when no one else can own them. */
  async function abandon(attempt: Attempt, written: readonly NewAssetRow[]): Promise<JobStatus | 'deleted'> {
    const current = await deps.jobs.findById(attempt.job.id);
    const status = current?.status ?? 'deleted';
    if (status === 'canceled') observeCanceled(current!);
    // Keys are the job's (user, job, index): after a success they are the winner's, and while
    // the job is queued or running the next attempt overwrites them. Otherwise nobody owns them.
    if (status === 'canceled' || status === 'failed' || status === 'deleted') await removeOutputs(deps.storage, written);
    return status;
  }

  /**
   * The commit: assets + success in one transaction guarded by the attempt. When it throws,
   * the files go only if the record says the commit did not happen; when the record cannot be
   * read they stay (a file no row owns is swept later; a row without its file is lost data).
   */
  async function succeed(attempt: Attempt, written: readonly NewAssetRow[]): Promise<LoggedChange | undefined> {
    const { job, lease } = attempt;
    try {
      return await deps.jobs.succeed(job.id, lease.attempt, [...written], clock());
    } catch (error) {
      const current = await deps.jobs.findById(job.id).catch(() => undefined);
      if (current && !(current.status === 'succeeded' && current.attempts === lease.attempt)) await removeOutputs(deps.storage, written);
      throw error;
    }
  }

  /** Extends the lease in the queue and the record; false when it is lost. */
  /** Renews the lease in the queue only (see AttemptPipeline.confirmLease). */
  const confirmLease = (attempt: Attempt, leaseMs: number) => deps.queue.heartbeat(attempt.lease, leaseMs);

  async function keepLease(attempt: Attempt, leaseMs: number): Promise<boolean> {
    if (!(await confirmLease(attempt, leaseMs))) return false;
    await deps.jobs.extendLease(attempt.job.id, attempt.lease.attempt, clock() + leaseMs);
    return true;
  }

  return {
    observeCanceled,
    keepLease,
    confirmLease,

    async begin(lease: Lease, owner: string): Promise<Attempt | undefined> {
      // One write starts the attempt, reads the job back and logs `running`.
      const started = await deps.jobs.markRunning(lease.jobId, lease.attempt, owner, lease.expiresAt, clock(), { attempt: lease.attempt, maxAttempts: lease.maxAttempts });
      if (!started) {
        // Finished, canceled or deleted while queued: its queue entry goes.
        await deps.queue.complete(lease);
        return undefined;
      }
      const { row: job } = started;
      await deps.events.announce(job, started.event);
      return { job, spec: JSON.parse(job.spec) as JobSpec, lease };
    },

    holdLease(attempt: Attempt, leaseMs: number, onLost: () => void): () => void {
      const timer = setInterval(() => {
        keepLease(attempt, leaseMs)
          .then((held) => {
            if (!held) onLost();
          })
          .catch((error: unknown) => deps.logger.warn({ jobId: attempt.job.id, err: error }, 'heartbeat failed'));
      }, Math.max(50, leaseMs / 3));
      return () => clearInterval(timer);
    },

    async progress(attempt: Attempt, step: number, totalSteps: number): Promise<void> {
      await deps.jobs.updateProgress(attempt.job.id, attempt.lease.attempt, step, totalSteps, clock());
      await deps.events.emit(attempt.job, 'progress', { step, totalSteps, progress: totalSteps > 0 ? step / totalSteps : 0 });
    },

    async commit(attempt: Attempt, outputs: readonly GeneratedOutput[], signal?: AbortSignal): Promise<CommitResult> {
      const { job, spec, lease } = attempt;
      const written = await storeOutputs(deps.storage, job, spec, outputs, storeOptionsFor(deps, job, { workspaceTtlMs: deps.workspaceTtlMs, now: clock }));
      const succeeded = signal?.aborted ? undefined : await succeed(attempt, written);
      if (!succeeded) return { kind: 'lost', status: await abandon(attempt, written) };
      await deps.events.announce(job, succeeded.event);
      observeFinished(job, 'succeeded');
      // The record is final: the hook and the queue entry need not hold up the caller (the
      // runner's next job, a worker's callback). If the process dies before the entry is
      // removed, its lease expires and the next holder finds the job finished and removes it.
      track(
        (async () => {
          await deps.onSucceeded?.(job, spec, written, outputs).catch((error: unknown) => deps.logger.warn({ jobId: job.id, err: error }, 'after-success hook failed'));
          await deps.queue.complete(lease);
        })().catch((error: unknown) => deps.logger.warn({ jobId: job.id, err: error }, 'removing a finished queue entry failed; its lease will expire')),
      );
      return { kind: 'succeeded', assets: written };
    },

    async abandon(attempt: Attempt): Promise<JobStatus | 'deleted'> {
      return abandon(attempt, []);
    },

    async fail(attempt: Attempt, failure: ClassifiedError): Promise<FailResult> {
      const settled = { code: failure.code, message: failure.message };
      deps.logger.warn({ jobId: attempt.job.id, attempt: attempt.lease.attempt, code: failure.code, message: failure.message }, 'attempt failed');
      const outcome = await deps.queue.fail(attempt.lease, settled, failure.retryable);
      if (!outcome) return { kind: 'lost' };
      // The event says whether the error was retryable, as the classification decided.
      await record(attempt.job, outcome, failure);
      return { ...outcome, error: settled };
    },

    async recoverExpired(): Promise<void> {
      await recordSettled(await deps.queue.recoverExpired());
    },

    async reclaim(owner: string): Promise<number> {
      const settled = await deps.queue.reclaim(owner);
      await recordSettled(settled);
      return settled.length;
    },

    async settle(): Promise<void> {
      while (tails.size > 0) await Promise.all([...tails]);
    },

    async giveBack(lease: Lease, error: QueueError): Promise<void> {
      const outcome = await deps.queue.fail(lease, error, true);
      if (outcome) await recordSettled([{ jobId: lease.jobId, outcome, error }]);
    },
  };
}

