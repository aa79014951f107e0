import type { JobEventsRepo } from '../db/repos/job-events-repo.js';
import type { LoggedEvent } from '../db/repos/logged-job-writes.js';
import type { EventBus, JobEvent, JobEventType } from './event-bus.js';
import { publishPreview, type PreviewMime } from './preview-events.js';

/**
 * Records a job event durably, then announces it. Listeners that miss the announcement
 * (a reconnecting SSE client, another node) replay the log.
 */
export function createJobEvents(repo: JobEventsRepo, bus: EventBus, clock: () => number = Date.now) {
  return {
    async emit(job: { id: string; user_id: string }, type: JobEventType, data: Record<string, unknown> = {}): Promise<JobEvent> {
      const event = await repo.append(job.id, job.user_id, type, data, clock());
      await bus.publish(event);
      return event;
    },
    /** Announces an event a state change already wrote to the log (JobsRepo's logged changes). */
    async announce(job: { id: string; user_id: string }, logged: LoggedEvent): Promise<JobEvent> {
      const event: JobEvent = { jobId: job.id, userId: job.user_id, ...logged };
      await bus.publish(event);
      return event;
    },
    /** Announces a live preview image (ephemeral: not in the log, not replayed). */
    preview: (job: { id: string; user_id: string }, preview: { data: Buffer; mime: PreviewMime }) => publishPreview(bus, job, preview, undefined, clock()),
    replay: repo.listAfter,
    subscribe: bus.subscribe,
  };
}

export type JobEvents = ReturnType<typeof createJobEvents>;
