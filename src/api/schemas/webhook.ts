import { Type } from 'typebox';
import { WEBHOOK_EVENTS } from '../../webhooks/webhook-events.js';

/** The webhook fields of every generation request (`POST /api/generate/*`, `/v1/images/generations`). */
export const webhookFields = {
  webhook: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 2048,
      description: 'https URL that receives the run (the body of GET /api/status/{runId}) when it changes status, signed per Standard Webhooks. Private addresses are refused.',
    }),
  ),
  webhook_events: Type.Optional(
    Type.Array(Type.Union(WEBHOOK_EVENTS.map((event) => Type.Literal(event))), {
      maxItems: 8,
      description: 'Which status changes are sent: running, succeeded, failed, canceled. Default: succeeded, failed, canceled.',
    }),
  ),
};

export const WebhookSecretView = Type.Object({
  secret: Type.String({ description: 'whsec_ followed by the base64 HMAC key: verify webhook-signature with it' }),
});

const iso = Type.String({ format: 'date-time' });
const isoOrNull = Type.Union([iso, Type.Null()]);

export const WebhookDeliveryView = Type.Object({
  webhookId: Type.String({ description: 'The webhook-id header: the same on every attempt of this delivery' }),
  event: Type.String(),
  url: Type.String(),
  state: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')], { description: 'failed: given up after the retry window' }),
  attempts: Type.Integer({ description: 'Attempts begun, the one in flight included' }),
  nextAttemptAt: isoOrNull,
  lastAttemptAt: isoOrNull,
  lastStatus: Type.Union([Type.Integer(), Type.Null()], { description: "The receiver's HTTP status at the last finished attempt; null when it gave none" }),
  lastError: Type.Union([Type.String(), Type.Null()]),
  deliveredAt: isoOrNull,
  createdAt: iso,
  history: Type.Array(
    Type.Object({
      attempt: Type.Integer(),
      at: iso,
      durationMs: Type.Integer(),
      status: Type.Union([Type.Integer(), Type.Null()]),
      error: Type.Union([Type.String(), Type.Null()]),
    }),
    { description: 'Each finished attempt, oldest first' },
  ),
});

export const WebhookDeliveriesView = Type.Object({ runId: Type.String(), deliveries: Type.Array(WebhookDeliveryView) });
