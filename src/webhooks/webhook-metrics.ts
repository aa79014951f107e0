import { Counter, type Registry } from 'prom-client';

/** Webhook figures on /metrics, in the server's registry. */
export function createWebhookMetrics(registry: Registry) {
  return {
    /** Attempts by outcome: `delivered` (2xx), `retrying` (failed, tried again later), `gave_up` (failed after the retry window). */
    attempts: new Counter({
      name: 'atelier_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome: delivered, retrying (failed, tried again later) or gave_up (failed for the last time)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  };
}

export type WebhookMetrics = ReturnType<typeof createWebhookMetrics>;
