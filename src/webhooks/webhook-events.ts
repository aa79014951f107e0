import type { JobStatus } from '../jobs/job-status.js';

/** The status changes a run can report to its webhook, in the order they happen. */
export const WEBHOOK_EVENTS = ['running', 'succeeded', 'failed', 'canceled'] as const satisfies readonly JobStatus[];

export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** When a request names no `webhook_events`: the terminal ones, as Replicate does. */
export const DEFAULT_WEBHOOK_EVENTS: readonly WebhookEvent[] = ['succeeded', 'failed', 'canceled'];

/**
 * The events as `jobs.webhook_events` keeps them — a comma list in lifecycle order, which the
 * enqueueing trigger (migration 0009) searches for the new status.
 *
 * @example formatWebhookEvents(['failed', 'running']) // 'running,failed'
 */
export function formatWebhookEvents(events: readonly WebhookEvent[]): string {
  return WEBHOOK_EVENTS.filter((event) => events.includes(event)).join(',');
}

/** The inverse of {@link formatWebhookEvents}; unknown names are dropped. */
export function parseWebhookEvents(text: string | null): WebhookEvent[] {
  const named = (text ?? '').split(',');
  return WEBHOOK_EVENTS.filter((event) => named.includes(event));
}
