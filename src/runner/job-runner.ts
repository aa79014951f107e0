import type { Backend } from '../backends/backend.js';
import type { JobsRepo } from '../db/repos/jobs-repo.js';
import type { JobRow } from '../db/schema.js';
import { CanceledError, UnrecoverableError } from '../errors/signals.js';
import type { JobEvents } from '../events/job-events.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Lease, Queue } from '../queue/queue.js';
import type { Storage } from '../storage/storage.js';
import type { AttemptPipeline } from './attempt-pipeline.js';
import { classifyError } from './classify-error.js';
import { lazyWorkDir } from '../backends/lazy-work-dir.js';
import { loadInputs } from './load-inputs.js';

export interface RunnerDeps {
  readonly queue: Queue;
  readonly jobs: JobsRepo;
  readonly events: JobEvents;
  readonly storage: Storage;
  /** The backends this process runs itself (not the remote ones). */
  readonly backends: ReadonlyMap<string, Backend>;
  readonly pipeline: AttemptPipeline;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** The lane of a job, for re-enqueuing unfinished ones (src/queue/lanes.ts). */
  readonly laneOf: (job: Pick<JobRow, 'backend'>) => string;
}

/**
 * How often a runner re-enqueues jobs that have sat `queued` that long. A job is recorded
 * before it is queued; if the enqueue itself failed (Redis unreachable for a moment), this
 * puts it back without waiting for a restart. Re-enqueuing a job that is queued is a no-op.
 */
const RECONCILE_INTERVAL_MS = 60_000;
const RECONCILE_BATCH = 500;

export interface RunnerOptions {
  /** This node's stable identity: the owner of its leases, the same across restarts. */
  readonly workerId: string;
  readonly concurrency: number;
  readonly leaseMs: number;
  /** Longest sleep between polls when no wake-up arrives (delayed retries, other writers). */
  readonly pollMs: number;
  readonly clock?: () => number;
  /** The queue lane(s) this runner claims from (src/queue/lanes.ts); default `local`. */
  readonly lanes?: string | readonly string[];
}

/**
 * The in-process runner: claims from its lanes, runs each lease's backend and hands the
 * outputs to the attempt pipeline (attempt-pipeline.ts), which a remote worker's completion
 * uses too. At start it takes back the leases its previous incarnation held (a crash), so
 * that work runs again at once instead of waiting for the leases to expire.
 */
export function createRunner(deps: RunnerDeps, options: RunnerOptions) {
  const clock = options.clock ?? Date.now;
  const { pipeline } = deps;
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
          await pipeline.recoverExpired();
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
        lane: deps.laneOf(job),
        // A crash between a failed attempt and its record may cost one extra attempt,
        // never the job.
        attemptsMade: Math.min(job.attempts, job.max_attempts - 1),
      });
    }
  }

  async function runLease(lease: Lease): Promise<void> {
    const attempt = await pipeline.begin(lease, options.workerId);
    if (!attempt) return;
    const { job, spec } = attempt;
    const abort = new AbortController();
    running.set(job.id, abort);
    const release = pipeline.holdLease(attempt, options.leaseMs, () => abort.abort(new CanceledError('The lease was lost')));
    const workDir = lazyWorkDir('atelier-job-');
    try {
      const backend = deps.backends.get(job.backend);
      if (!backend) throw new UnrecoverableError(`Backend '${job.backend}' is not configured on this node`, 'unknown_model');
      let progress = Promise.resolve();
      const inputs = await loadInputs(deps.storage, spec);
      const endTimer = deps.metrics.renderDuration.startTimer({ backend: backend.kind });
      const outputs = await backend.generate(spec, {
        signal: abort.signal,
        inputs,
        get workDir() {
          return workDir.path;
        },
        onProgress: ({ step, totalSteps }) => {
          progress = progress.then(() => pipeline.progress(attempt, step, totalSteps));
        },
        // Previews are live-only and best-effort: never stored, never awaited.
        onPreview: (preview) => void deps.events.preview(job, preview).catch(() => undefined),
      });
      endTimer();
      await progress;
      abort.signal.throwIfAborted();
      const expected = spec.numFrames !== undefined ? 1 : spec.numImages;
      if (outputs.length !== expected) {
        // The count is the workflow's doing (two save nodes, a template's own batch size): every
        // attempt would render the same wrong count, so the job fails at once.
        throw new UnrecoverableError(`Backend '${job.backend}' returned ${outputs.length} outputs where the job asked for ${expected}; check that its workflow saves exactly one image per requested image`, 'backend_failed');
      }
      await pipeline.commit(attempt, outputs, abort.signal);
    } catch (error) {
      if (abort.signal.aborted) await pipeline.abandon(attempt);
      else await pipeline.fail(attempt, classifyError(error));
    } finally {
      release();
      running.delete(job.id);
      await workDir.remove();
    }
  }

  return {
    /**
     * Takes back this node's leases from before a restart, re-enqueues every unfinished job
     * (idempotent), then starts the loops.
     */
    async start(): Promise<void> {
      const reclaimed = await pipeline.reclaim(options.workerId);
      if (reclaimed > 0) deps.logger.warn({ reclaimed, node: options.workerId }, 'took back the jobs this node was running when it stopped');
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
