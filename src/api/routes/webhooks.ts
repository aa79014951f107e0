import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppDeps } from '../app-deps.js';
import { currentUser } from '../plugins/auth.js';
import { errorResponses, RunIdParams } from '../schemas/common.js';
import { WebhookDeliveriesView, WebhookSecretView } from '../schemas/webhook.js';

/** The caller's webhook signing secret, and a run's deliveries (README "Webhooks"). */
export function webhookRoutes(deps: AppDeps): FastifyPluginAsync {
  return async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/api/webhooks/secret',
      {
        schema: {
          tags: ['webhooks'],
          summary: "The caller's webhook signing secret (created on first use)",
          description: 'Every delivery of the caller\'s runs is signed with it: webhook-signature is "v1," + base64 HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}", keyed with the base64-decoded part after whsec_.',
          security: [{ bearerAuth: [] }],
          response: { 200: WebhookSecretView, ...errorResponses },
        },
      },
      async (request) => ({ secret: await deps.webhooks.secretFor(currentUser(request).id) }),
    );

    app.post(
      '/api/webhooks/secret/rotate',
      {
        schema: {
          tags: ['webhooks'],
          summary: 'Replace the signing secret',
          description: 'Attempts from now on, retries of earlier deliveries included, are signed with the new secret only.',
          security: [{ bearerAuth: [] }],
          response: { 200: WebhookSecretView, ...errorResponses },
        },
      },
      async (request) => ({ secret: await deps.webhooks.rotateSecret(currentUser(request).id) }),
    );

    app.get(
      '/api/runs/:runId/webhooks',
      {
        schema: {
          tags: ['webhooks'],
          summary: "A run's webhook deliveries and their attempts",
          description: 'One delivery per event the run reported; its owner or an admin only (anyone else: 404, as for the status).',
          security: [{ bearerAuth: [] }],
          params: RunIdParams,
          response: { 200: WebhookDeliveriesView, ...errorResponses },
        },
      },
      async (request) => {
        const job = await deps.jobService.getForUser(currentUser(request), request.params.runId);
        return { runId: job.id, deliveries: await deps.webhooks.deliveriesOf(job.id) };
      },
    );
  };
}
