import type { JobRow } from '../db/schema.js';
import type { FailOutcome, QueueError } from '../queue/queue.js';
import type { RunnerDeps } from './job-runner.js';

/**
 * Mirrors a failed attempt into the job record and its event log: back to `queued` with the
 * retry time, or `failed` with the last error. Returns true when the job is now failed.
 */
export async function recordFailedAttempt(
  deps: Pick<RunnerDeps, 'jobs' | 'events' | 'metrics'>,
  job: JobRow,
  outcome: FailOutcome,
  error: QueueError,
  clock: () => number,
): Promise<boolean> {
  if (outcome.kind === 'retry') {
    if (await deps.jobs.requeue(job.id, error.code, error.message, clock())) {
      deps.metrics.attemptsRetried.inc({ code: error.code });
      await deps.events.emit(job, 'retrying', { attempt: outcome.attempt, retryAt: new Date(outcome.retryAt).toISOString(), error });
    }
    return false;
  }
  if (await deps.jobs.fail(job.id, error.code, error.message, clock())) {
    await deps.events.emit(job, 'failed', { error });
    return true;
  }
  return false;
}
