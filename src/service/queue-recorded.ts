import type { LoggedChange } from '../db/repos/jobs-repo.js';
import type { JobRow } from '../db/schema.js';
import type { JobServiceDeps } from './job-service.js';

/**
 * A freshly recorded job, made known and runnable: its `queued` event (written with the row)
 * announced, its queue entry added, the submission counted. Shared by submissions and reruns.
 */
export async function queueRecorded(deps: Pick<JobServiceDeps, 'events' | 'queue' | 'laneOf' | 'metrics'>, job: JobRow, recorded: LoggedChange): Promise<void> {
  await deps.events.announce(job, recorded.event);
  await deps.queue.enqueue(job.id, { priority: job.priority, maxAttempts: job.max_attempts, lane: deps.laneOf(job) });
  deps.metrics.jobsSubmitted.inc({ mode: job.mode, model: job.model });
}
