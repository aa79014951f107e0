import type { JobEventType } from '../events/event-bus.js';
import type { JobEvents } from '../events/job-events.js';
import type { Logger } from './logger.js';

/** What the log reads of the job an event is about: its record, as every caller passes it. */
interface MaybeJobRow {
  readonly id: string;
  readonly user_id: string;
  readonly mode?: string;
  readonly model?: string;
  readonly backend?: string;
  readonly created_at?: number | string;
  readonly started_at?: number | string | null;
  readonly cached?: number | boolean;
}

const FINISHED: ReadonlySet<JobEventType> = new Set(['succeeded', 'failed', 'canceled']);

/**
 * The job events, logging each run's lifecycle as it happens on this node: `job queued`,
 * `job started` (how long it waited), `job retrying`, and `job finished` with its outcome, how
 * long it ran and how long it took from submission (failures at warn, the rest at info).
 * Events are logged where they are emitted — by the node that made the change — so a
 * scale-out deployment logs each once. Progress and previews are not logged.
 *
 * @example const events = logJobLifecycle(createJobEvents(repo, bus), logger);
 */
export function logJobLifecycle(events: JobEvents, logger: Logger): JobEvents {
  const log = (job: MaybeJobRow, type: JobEventType, data: Record<string, unknown>, at: number) => {
    const base = { jobId: job.id, userId: job.user_id, mode: job.mode, model: job.model, backend: job.backend };
    const since = (time: number | string | null | undefined) => (time === null || time === undefined ? undefined : Math.max(0, at - Number(time)));
    if (type === 'queued') logger.info(base, 'job queued');
    else if (type === 'running') logger.info({ ...base, attempt: data.attempt, waitedMs: since(job.created_at) }, 'job started');
    else if (type === 'retrying') {
      const error = data.error as { code?: string } | undefined;
      logger.info({ ...base, attempt: data.attempt, code: error?.code, retryAt: data.retryAt }, 'job retrying');
    } else if (FINISHED.has(type)) {
      const error = data.error as { code?: string; message?: string } | undefined;
      const line = {
        ...base,
        outcome: type,
        // How long the last attempt ran (absent when it never started), and the whole wait.
        durationMs: since(job.started_at),
        totalMs: since(job.created_at),
        ...(job.cached ? { cached: true } : {}),
        ...(error ? { code: error.code, error: error.message } : {}),
      };
      if (type === 'failed') logger.warn(line, 'job finished');
      else logger.info(line, 'job finished');
    }
  };
  return {
    ...events,
    async emit(job, type, data = {}) {
      const event = await events.emit(job, type, data);
      log(job as MaybeJobRow, type, data, event.at);
      return event;
    },
    async announce(job, logged) {
      const event = await events.announce(job, logged);
      log(job as MaybeJobRow, logged.type, logged.data, event.at);
      return event;
    },
  };
}
