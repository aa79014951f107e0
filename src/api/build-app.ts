import type { ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { AppDeps } from './app-deps.js';
import { requireUser } from './plugins/auth.js';
import { logRequests } from './plugins/request-log.js';
import { installCors } from './plugins/cors.js';
import { handleError, installErrorHandler, MAX_PARAM_LENGTH } from './plugins/error-handler.js';
import { installJsonBody } from './plugins/json-body.js';
import { refuseNulCharacters } from './plugins/nul-characters.js';
import { refuseMalformedHost } from './plugins/origin.js';
import { handleUnreadBodies } from './plugins/unread-body.js';
import { installValidation } from './plugins/validation.js';
import type { Metrics } from '../observability/metrics.js';
import { adminJobsRoutes } from './routes/admin-jobs.js';
import { adminMetricsRoutes } from './routes/admin-metrics.js';
import { adminRoutes } from './routes/admin.js';
import { cacheRoutes } from './routes/cache.js';
import { estimateRoutes } from './routes/estimate.js';
import { generateRoutes } from './routes/generate.js';
import { healthRoutes } from './routes/health.js';
import { imageRoutes } from './routes/images.js';
import { meRoutes } from './routes/me.js';
import { mediaRoutes } from './routes/media.js';
import { modelRoutes } from './routes/models.js';
import { runsRoutes } from './routes/runs.js';
import { sendOpenAIError } from './routes/openai/openai-error.js';
import { openaiRoutes } from './routes/openai/openai-routes.js';
import { statusStreamRoutes } from './routes/status-stream.js';
import { statusRoutes } from './routes/status.js';
import { uploadRoutes } from './routes/uploads.js';
import { webhookRoutes } from './routes/webhooks.js';
import { webAppRoutes } from './routes/web-app.js';
import { workerAdminRoutes, workerRoutes, type WorkerRouteDeps } from './routes/worker.js';

const isOpenAIPath = (url: string) => url === '/v1' || url.startsWith('/v1/') || url.startsWith('/v1?');

export interface BuildAppOptions {
  /** A pino logger instance, or false for none (tests). */
  readonly logger?: FastifyInstance['log'] | false;
}

/**
 * Builds the HTTP application without listening, so tests can `inject()` or listen on any
 * port. Every route's schema both validates requests and produces /openapi.json.
 */
export async function buildApp(deps: AppDeps & { readonly workers?: WorkerRouteDeps }, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: deps.config.bodyLimitBytes,
    trustProxy: deps.config.publicUrl !== undefined,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    // /v1 speaks OpenAI's error shape even for what the router refuses before any route runs.
    frameworkErrors: (error, request, reply) => (isOpenAIPath(request.url) ? sendOpenAIError : handleError)(error, request, reply),
    // Fastify's two lines per request name neither route nor user: logRequests writes one instead.
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
  app.decorateRequest('user', null);
  cutResponsesOnClose(app);
  countRequests(app, deps.metrics);
  logRequests(app);
  installValidation(app);
  installErrorHandler(app);
  installJsonBody(app);
  refuseNulCharacters(app);
  refuseMalformedHost(app, deps.config.publicUrl);
  handleUnreadBodies(app);

  await installCors(app, deps.config.cors);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Atelier API', version: '0.1.0', description: 'Self-hosted generation server for image and video models.' },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'An Atelier API token' },
          workerToken: { type: 'http', scheme: 'bearer', description: 'A worker token (atw_…), for /api/worker only' },
        },
      },
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(healthRoutes(deps));
  await app.register(webAppRoutes());
  if (deps.mediaSigner) await app.register(mediaRoutes(deps.storage, deps.mediaSigner));
  await app.register(openaiRoutes(deps));
  await app.register(uploadRoutes(deps));
  if (deps.workers) await app.register(workerRoutes(deps.workers));
  await app.register(async (api) => {
    requireUser(api, deps.users);
    await api.register(generateRoutes(deps));
    await api.register(statusRoutes(deps));
    await api.register(webhookRoutes(deps));
    await api.register(runsRoutes(deps));
    await api.register(statusStreamRoutes(deps));
    await api.register(imageRoutes(deps));
    await api.register(modelRoutes(deps));
    await api.register(meRoutes());
    await api.register(adminRoutes(deps));
    await api.register(adminMetricsRoutes(deps));
    await api.register(adminJobsRoutes(deps));
    await api.register(cacheRoutes(deps));
    await api.register(estimateRoutes(deps));
    if (deps.workers) await api.register(workerAdminRoutes(deps.workers.workers));
  });
  return app;
}

/** Requests by route template (bounded: unknown paths are one label), for per-job cost figures. */
function countRequests(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (request, _reply, done) => {
    metrics.httpRequests.inc({ route: request.routeOptions.url ?? 'unmatched', method: request.method });
    done();
  });
}

/**
 * `app.close()` waits for every open connection, so a client that stops reading a download
 * (or reads it slowly) kept the server from closing for as long as it liked: `close()` hung.
 * Handlers still running are let finish, but a response whose handler is done and that is
 * still being sent when the server starts closing is cut (the client sees a truncated body
 * and fetches again, here or from another node). Event streams end themselves (status-stream.ts);
 * idle keep-alive connections are closed by Fastify.
 */
function cutResponsesOnClose(app: FastifyInstance): void {
  const sending = new Set<ServerResponse>();
  app.addHook('onSend', (_request, reply, payload, done) => {
    const res = reply.raw;
    if (!res.writableFinished && !sending.has(res)) {
      sending.add(res);
      res.once('close', () => sending.delete(res));
    }
    done(null, payload);
  });
  app.addHook('preClose', (done) => {
    for (const res of sending) res.destroy();
    done();
  });
}
