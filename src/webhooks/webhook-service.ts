import type { WebhookAttemptRow, WebhookDeliveriesRepo, WebhookDeliveryRow } from '../db/repos/webhook-deliveries-repo.js';
import type { WebhookSecretsRepo } from '../db/repos/webhook-secrets-repo.js';
import { newWebhookSecret } from './webhook-secret.js';

export interface WebhookServiceDeps {
  readonly secrets: WebhookSecretsRepo;
  readonly deliveries: WebhookDeliveriesRepo;
  readonly clock?: () => number;
}

/** A run's delivery as `GET /api/runs/{id}/webhooks` lists it. */
export interface DeliveryView {
  readonly webhookId: string;
  readonly event: string;
  readonly url: string;
  readonly state: 'pending' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly nextAttemptAt: string | null;
  readonly lastAttemptAt: string | null;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly deliveredAt: string | null;
  readonly createdAt: string;
  readonly history: { readonly attempt: number; readonly at: string; readonly durationMs: number; readonly status: number | null; readonly error: string | null }[];
}

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

/** Signing secrets and delivery records, for the API (the dispatcher sends; this answers). */
export function createWebhookService(deps: WebhookServiceDeps) {
  const clock = deps.clock ?? Date.now;
  return {
    /** The user's signing secret, created on first use. */
    secretFor: (userId: string): Promise<string> => deps.secrets.getOrCreate(userId, newWebhookSecret, clock()),

    /** A new secret for the user; every attempt from now on, retries included, is signed with it alone. */
    async rotateSecret(userId: string): Promise<string> {
      const secret = newWebhookSecret();
      await deps.secrets.replace(userId, secret, clock());
      return secret;
    },

    /** A run's deliveries with their attempts (the caller has checked who may see the run). */
    async deliveriesOf(jobId: string): Promise<DeliveryView[]> {
      return (await deps.deliveries.listForJob(jobId)).map(toView);
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;

function toView(row: WebhookDeliveryRow & { readonly history: readonly WebhookAttemptRow[] }): DeliveryView {
  const pending = row.state === 'pending';
  return {
    webhookId: row.id,
    event: row.event,
    url: row.url,
    state: row.state,
    attempts: row.attempts,
    // While an attempt is in flight the row's due time is its claim's expiry: show none.
    nextAttemptAt: pending && row.claimed_by === null ? iso(row.next_attempt_at) : null,
    lastAttemptAt: iso(row.last_attempt_at),
    lastStatus: row.last_status,
    lastError: row.last_error,
    deliveredAt: iso(row.delivered_at),
    createdAt: iso(row.created_at)!,
    history: row.history.map((a) => ({ attempt: a.attempt, at: iso(a.started_at)!, durationMs: a.duration_ms, status: a.status_code, error: a.error })),
  };
}
