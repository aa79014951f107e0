import type { JobEvents } from '../events/job-events.js';
import { parseWebhookEvents, type WebhookEvent } from './webhook-events.js';

/** What the wrapper reads of the job an event is about: its record, as every caller passes it. */
interface MaybeWithWebhook {
  readonly webhook_url?: string | null;
  readonly webhook_events?: string | null;
}

/**
 * The job events, calling `wake` after an event a run's webhook subscribes to was recorded and
 * announced. The delivery itself was already written with the status change (migration
 * 0009); this only tells this process's dispatcher to look now rather than at its next poll.
 * It reads the job record the caller passes (every caller passes the job's row), so runs
 * without a webhook cost nothing — no query, no wake-up. A lost wake-up (a crash right after
 * the change) is made up by the dispatcher's start-up and its poll.
 *
 * @example const events = wakeOnWebhookEvents(createJobEvents(repo, bus), () => dispatcher.wake());
 */
export function wakeOnWebhookEvents(events: JobEvents, wake: () => void): JobEvents {
  const subscribed = (job: object, type: string) => {
    const { webhook_url: url, webhook_events: events } = job as MaybeWithWebhook;
    return Boolean(url) && parseWebhookEvents(events ?? null).includes(type as WebhookEvent);
  };
  return {
    ...events,
    async emit(job, type, data) {
      const event = await events.emit(job, type, data);
      if (subscribed(job, type)) wake();
      return event;
    },
    async announce(job, logged) {
      const event = await events.announce(job, logged);
      if (subscribed(job, logged.type)) wake();
      return event;
    },
  };
}
