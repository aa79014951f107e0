import type { FastifyPluginAsync } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { AtelierError } from '../../errors/atelier-error.js';
import { requireAdmin, requireUser } from '../plugins/auth.js';

/** Liveness, readiness (the database and queue answer) and Prometheus metrics (admin token). */
export function healthRoutes(deps: AppDeps): FastifyPluginAsync {
  return async (app) => {
    app.get('/healthz', { schema: { tags: ['health'], summary: 'Liveness' } }, async () => ({ status: 'ok' }));
    app.get('/readyz', { schema: { tags: ['health'], summary: 'Readiness: the database (and Redis, when configured) answers' } }, async (request) => {
      try {
        await deps.ping();
      } catch (error) {
        request.log.warn({ err: error }, 'not ready');
        throw error instanceof AtelierError ? error : new AtelierError('not_ready', 'The database does not answer');
      }
      return { status: 'ready' };
    });
    await app.register(async (scoped) => {
      requireUser(scoped, deps.users);
      scoped.get('/metrics', { schema: { tags: ['health'], summary: 'Prometheus metrics (admin token)', security: [{ bearerAuth: [] }] } }, async (request, reply) => {
        requireAdmin(request);
        return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
      });
    });
  };
}
