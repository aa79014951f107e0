import type { FastifyInstance } from 'fastify';

/** Probes poll these every few seconds; their lines would drown everything else at info. */
const PROBES = new Set(['/healthz', '/readyz']);

/**
 * One log line per request, when its response is sent: method, route template (never the
 * URL, whose query may hold a signature), status, time in ms and who asked (user or remote
 * worker id). It replaces Fastify's two lines per request (incoming, completed), which said
 * neither the route nor the user. Info level; health probes at debug.
 *
 * @example {"level":30,"reqId":"req-7","method":"POST","route":"/api/generate/text-to-image","status":202,"ms":12,"userId":"…","msg":"POST /api/generate/text-to-image 202 12 ms"}
 */
export function logRequests(app: FastifyInstance): void {
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const ms = Math.round(reply.elapsedTime);
    const worker = (request as { worker?: { id: string } | null }).worker;
    const line = {
      method: request.method,
      route,
      status: reply.statusCode,
      ms,
      ...(request.user ? { userId: request.user.id } : {}),
      ...(worker ? { workerId: worker.id } : {}),
    };
    const message = `${request.method} ${route} ${reply.statusCode} ${ms} ms`;
    if (PROBES.has(route)) request.log.debug(line, message);
    else request.log.info(line, message);
    done();
  });
}
