import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../backends/backend.js';
import { loadInputs } from './load-inputs.js';
import type { MediaMetrics } from '../media/image/media-metrics.js';
import type { DeliveryPreset } from '../media/image/presets.js';
import type { ModelRegistry } from '../backends/model-registry.js';
import type { JobsRepo } from '../db/repos/jobs-repo.js';
import type { JobRow, NewAssetRow } from '../db/schema.js';
import { CanceledError, RetryableError } from '../errors/signals.js';
import type { JobEvents } from '../events/job-events.js';
import { isTerminal } from '../jobs/job-status.js';
import type { JobSpec } from '../jobs/job-spec.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Lease, Queue } from '../queue/queue.js';
import type { Storage } from '../storage/storage.js';
import { classifyError } from './classify-error.js';
import { recordFailedAttempt } from './record-failure.js';
import { storeOptionsFor } from './store-options.js';
import { removeOutputs, storeOutputs } from './store-outputs.js';

export interface RunnerDeps {
  readonly queue: Queue;
  readonly jobs: JobsRepo;
  readonly events: JobEvents;
  readonly storage: Storage;
  readonly backends: ReadonlyMap<string, Backend>;
  readonly registry: ModelRegistry;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /**
   * Called after a run's success is committed (prompt cache, evaluation). Its failures are
   * logged; they never fail the run.
   */
  readonly onSucceeded?: (job: JobRow, spec: JobSpec, assets: readonly NewAssetRow[]) => Promise<void>;
  /** Delivery presets by model, and media metrics; defaults to the stable-diffusion preset. */
  readonly media?: { readonly presetFor: (model: string) => DeliveryPreset; readonly metrics?: MediaMetrics };
}

/**
 * How often a runner re-enqueues jobs that have sat `queued` that long. A job is recorded
 * before it is queued; if the enqueue itself failed (Redis unreachable for a moment), this
 * puts it back without waiting for a restart. Re-enqueuing a job that is queued is a no-op.
 */
const RECONCILE_INTERVAL_MS = 60_000;
const RECONCILE_BATCH = 500;

export interface RunnerOptions {
  readonly workerId: string;
  readonly concurrency: number;
  readonly leaseMs: number;
  /** Longest sleep between polls when no wake-up arrives (delayed retries, other writers). */
  readonly pollMs: number;
  readonly workspaceTtlMs: number;
  readonly clock?: () => number;
  /** The queue lane(s) this runner claims from (src/queue/lanes.ts); default `local`. */
  readonly lanes?: string | readonly string[];
}

/**
 * The pipeline: lease → backend → post-processing → storage → records. Runs `concurrency`
 * loops in this process. Every write is ordered so a crash at any point leaves a job that
 * the queue will hand out again, never a half-recorded one.
 */
export function createRunner(deps: RunnerDeps, options: RunnerOptions) {
  const clock = options.clock ?? Date.now;
  const stopping = new AbortController();
  const running = new Map<string, AbortController>();
  const loops: Promise<void>[] = [];
  let lastRecovery = 0;
  let lastReconcile = clock();

  // A cancel published anywhere stops the attempt running here at once.
  const unsubscribe = deps.events.subscribe('*', (event) => {
    if (event.type === 'canceled') running.get(event.jobId)?.abort(new CanceledError());
  });

  async function loop(): Promise<void> {
    while (!stopping.signal.aborted) {
      try {
        if (clock() - lastRecovery >= Math.min(options.leaseMs / 2, 1000)) {
          lastRecovery = clock();
          await recoverExpiredLeases();
        }
        if (clock() - lastReconcile >= RECONCILE_INTERVAL_MS) {
          lastReconcile = clock();
          await enqueueJobs(await deps.jobs.listQueuedBefore(clock() - RECONCILE_INTERVAL_MS, RECONCILE_BATCH));
        }
        const lease = await deps.queue.claim(options.workerId, options.leaseMs, options.lanes);
        if (lease) await runLease(lease);
        else await deps.queue.waitForWork(options.pollMs, stopping.signal, options.lanes);
      } catch (error) {
        deps.logger.error({ err: error }, 'runner loop error');
        await deps.queue.waitForWork(options.pollMs, stopping.signal, options.lanes);
      }
    }
  }

  /** Enqueues jobs the records say are unfinished; idempotent for jobs already queued. */
  async function enqueueJobs(jobs: readonly JobRow[]): Promise<void> {
    for (const job of jobs) {
      await deps.queue.enqueue(job.id, {
        priority: job.priority,
        maxAttempts: job.max_attempts,
        // A crash between a failed attempt and its record may cost one extra attempt,
        // never the job.
        attemptsMade: Math.min(job.attempts, job.max_attempts - 1),
      });
    }
  }

  async function recoverExpiredLeases(): Promise<void> {
    for (const expired of await deps.queue.recoverExpired()) {
      const job = await deps.jobs.findById(expired.jobId);
      if (!job) continue;
      deps.logger.warn({ jobId: job.id, outcome: expired.outcome.kind }, 'lease expired');
      await recordFailedAttempt(deps, job, expired.outcome, expired.error, clock);
    }
  }

  async function runLease(lease: Lease): Promise<void> {
    const job = await deps.jobs.findById(lease.jobId);
    if (!job || isTerminal(job.status) || !(await deps.jobs.markRunning(job.id, lease.attempt, options.workerId, lease.expiresAt, clock()))) {
      // Canceled or finished while queued: the entry is all that is left of it.
      await deps.queue.complete(lease);
      return;
    }
    await deps.events.emit(job, 'running', { attempt: lease.attempt, maxAttempts: lease.maxAttempts });

    const abort = new AbortController();
    running.set(job.id, abort);
    const heartbeat = setInterval(() => void keepLease(job, lease, abort), Math.max(50, options.leaseMs / 3));
    let written: NewAssetRow[] = [];
    const workDir = await mkdtemp(join(tmpdir(), 'atelier-job-'));
    try {
      const spec = JSON.parse(job.spec) as JobSpec;
      const backend = deps.backends.get(job.backend);
      if (!backend) throw new Error(`Backend '${job.backend}' is not configured on this node`);
      let progress = Promise.resolve();
      const inputs = await loadInputs(deps.storage, spec);
      const endTimer = deps.metrics.renderDuration.startTimer({ backend: backend.kind });
      const outputs = await backend.generate(spec, {
        signal: abort.signal,
        inputs,
        workDir,
        onProgress: ({ step, totalSteps }) => {
          progress = progress.then(() => reportProgress(job, lease.attempt, step, totalSteps));
        },
        // Previews are live-only and best-effort: never stored, never awaited.
        onPreview: (preview) => void deps.events.preview(job, preview).catch(() => undefined),
      });
      endTimer();
      await progress;
      abort.signal.throwIfAborted();
      if (outputs.length !== (spec.numFrames !== undefined ? 1 : spec.numImages)) {
        throw new RetryableError(`Backend '${job.backend}' returned ${outputs.length} images for a batch of ${spec.numImages}`, 'backend_failed');
      }
      written = await storeOutputs(deps.storage, job, spec, outputs, storeOptionsFor(deps, job, { workspaceTtlMs: options.workspaceTtlMs, now: clock }));
      abort.signal.throwIfAborted();
      if (await deps.jobs.succeed(job.id, lease.attempt, written, clock())) {
        await deps.events.emit(job, 'succeeded', { assets: written.map((a) => ({ id: a.id, index: a.asset_index })) });
        observeFinished(job, 'succeeded');
        await deps.onSucceeded?.(job, spec, written).catch((error: unknown) => deps.logger.warn({ jobId: job.id, err: error }, 'after-success hook failed'));
      } else {
        await cleanUpLostAttempt(job, written);
      }
      await deps.queue.complete(lease);
    } catch (error) {
      if (abort.signal.aborted) {
        await cleanUpLostAttempt(job, written);
        return;
      }
      const failure = classifyError(error);
      deps.logger.warn({ jobId: job.id, attempt: lease.attempt, code: failure.code, err: error }, 'attempt failed');
      const outcome = await deps.queue.fail(lease, failure, failure.retryable);
      if (outcome) {
        const finished = await recordFailedAttempt(deps, job, outcome, failure, clock);
        if (finished) observeFinished(job, 'failed');
      }
    } finally {
      clearInterval(heartbeat);
      running.delete(job.id);
      await rm(workDir, { recursive: true, force: true });
    }
  }

  /** The attempt no longer owns the job (canceled, or its lease went to another runner). */
  async function cleanUpLostAttempt(job: JobRow, written: NewAssetRow[]): Promise<void> {
    const current = await deps.jobs.findById(job.id);
    // Only a canceled job's files are ours to remove; after a lost lease the keys belong
    // to the attempt that now holds the job.
    if (current?.status === 'canceled') {
      await removeOutputs(deps.storage, written);
      observeFinished(job, 'canceled');
    }
  }

  async function keepLease(job: JobRow, lease: Lease, abort: AbortController): Promise<void> {
    try {
      if (await deps.queue.heartbeat(lease, options.leaseMs)) {
        await deps.jobs.extendLease(job.id, lease.attempt, clock() + options.leaseMs);
      } else {
        abort.abort(new CanceledError('The lease was lost'));
      }
    } catch (error) {
      deps.logger.warn({ jobId: job.id, err: error }, 'heartbeat failed');
    }
  }

  async function reportProgress(job: JobRow, attempt: number, step: number, totalSteps: number): Promise<void> {
    await deps.jobs.updateProgress(job.id, attempt, step, totalSteps, clock());
    await deps.events.emit(job, 'progress', { step, totalSteps, progress: totalSteps > 0 ? step / totalSteps : 0 });
  }

  function observeFinished(job: JobRow, status: string): void {
    deps.metrics.jobsFinished.inc({ status, model: job.model });
    deps.metrics.jobDuration.observe({ status, model: job.model }, (clock() - Number(job.created_at)) / 1000);
  }

  return {
    /** Re-enqueues every unfinished job (idempotent), then starts the loops. */
    async start(): Promise<void> {
      await enqueueJobs(await deps.jobs.listActive());
      for (let i = 0; i < options.concurrency; i++) loops.push(loop());
    },

    /** Stops claiming; waits up to `graceMs` for running attempts, whose leases then expire. */
    async stop(graceMs: number): Promise<void> {
      stopping.abort();
      unsubscribe();
      await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, graceMs).unref())]);
    },

    get activeJobs(): number {
      return running.size;
    },
  };
}

export type Runner = ReturnType<typeof createRunner>;
