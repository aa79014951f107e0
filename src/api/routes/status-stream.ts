import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { EPHEMERAL_EVENT_TYPES, type JobEvent } from '../../events/event-bus.js';
import type { AppDeps } from '../app-deps.js';
import { currentUser } from '../plugins/auth.js';
import { errorResponses, RunIdParams } from '../schemas/common.js';
import { TERMINAL_STATUSES } from '../../jobs/job-status.js';

const TERMINAL = new Set<string>(TERMINAL_STATUSES);
const KEEPALIVE_MS = 15_000;

/**
 * `GET /api/status/stream/{runId}`: Server-Sent Events. Each event's id is the run's event
 * sequence number, so a client that reconnects with `Last-Event-ID` gets exactly what it
 * missed from the durable log, then live events. The stream ends after the terminal event,
 * or when the server closes: a run may never end, and `app.close()` waits for every open
 * response, so an open stream would keep the server from closing. The client reconnects
 * with Last-Event-ID (to this server once restarted, or to another node) and misses nothing.
 */
export function statusStreamRoutes(deps: AppDeps): FastifyPluginAsync {
  return async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    /** How to end each open stream; a stream opened once closing has begun ends after its replay. */
    const open = new Set<() => void>();
    let closing = false;
    plugin.addHook('preClose', (done) => {
      closing = true;
      for (const close of open) close();
      done();
    });
    app.get(
      '/api/status/stream/:runId',
      {
        schema: {
          tags: ['runs'],
          summary: 'Live events of a run (Server-Sent Events)',
          description: 'Events: queued, running, progress, preview, retrying, succeeded, failed, canceled. Each `data` is JSON; resumable with Last-Event-ID. `preview` events (a live image, `{mime, image}` with a data: URL) are live only: they carry no id and are not replayed.',
          security: [{ bearerAuth: [] }],
          params: RunIdParams,
          // Event ids are job_events.seq, a 32-bit integer: a larger one is a 422, not a query PostgreSQL refuses.
          headers: Type.Object({ 'last-event-id': Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647 })) }),
          response: { 200: Type.String({ description: 'text/event-stream' }), ...errorResponses },
        },
      },
      async (request, reply) => {
        const job = await deps.jobService.getForUser(currentUser(request), request.params.runId);
        const lastEventId = request.headers['last-event-id'] ?? 0;

        // Subscribe before replaying, buffering live events, so nothing falls in between.
        const pending: JobEvent[] = [];
        let deliver: (event: JobEvent) => void = (event) => pending.push(event);
        const unsubscribe = deps.events.subscribe(job.id, (event) => deliver(event));

        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          // Headers hooks set on the reply (CORS: Access-Control-Allow-Origin, Vary) are not
          // sent by a hijacked reply unless copied.
          ...(reply.getHeaders() as OutgoingHttpHeaders),
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        res.write('retry: 2000\n\n');

        let lastSent = lastEventId;
        let closed = false;
        // Live events are handled one at a time, in arrival order, because filling a gap
        // awaits the log.
        let chain = Promise.resolve();
        const serially = (work: () => Promise<void>) => {
          chain = chain.then(work).catch((error: unknown) => {
            request.log.error({ err: error }, 'status stream failed');
            close();
          });
        };
        // With several nodes, events reach this one over Redis: one may overtake another
        // (published by different nodes) or be lost while the subscriber reconnects. The
        // durable log has them all, so a gap is filled from it, and every keep-alive checks
        // that a finished run's terminal event was not missed.
        const catchUp = async () => {
          for (const event of await deps.events.replay(job.id, job.user_id, lastSent)) send(event);
        };
        const keepalive = setInterval(() => {
          res.write(': keep-alive\n\n');
          serially(async () => {
            const current = await deps.jobService.getForUser(currentUser(request), job.id);
            if (TERMINAL.has(current.status)) await catchUp();
          });
        }, KEEPALIVE_MS);
        const close = () => {
          if (closed) return;
          closed = true;
          open.delete(close);
          clearInterval(keepalive);
          unsubscribe();
          res.end();
        };
        open.add(close);
        request.raw.on('close', close);

        const send = (event: JobEvent) => {
          if (closed) return;
          if (EPHEMERAL_EVENT_TYPES.has(event.type)) {
            // Live only (previews): no id, so Last-Event-ID keeps pointing into the durable log.
            res.write(`event: ${event.type}\ndata: ${JSON.stringify({ runId: event.jobId, type: event.type, at: new Date(event.at).toISOString(), ...event.data })}\n\n`);
            return;
          }
          if (event.seq <= lastSent) return;
          lastSent = event.seq;
          const data = JSON.stringify({ runId: event.jobId, type: event.type, at: new Date(event.at).toISOString(), ...event.data });
          res.write(`id: ${event.seq}\nevent: ${event.type}\ndata: ${data}\n\n`);
          if (TERMINAL.has(event.type)) close();
        };

        try {
          for (const event of await deps.events.replay(job.id, job.user_id, lastEventId)) send(event);
          for (const event of pending.splice(0)) send(event);
          deliver = (event) =>
            serially(async () => {
              if (!EPHEMERAL_EVENT_TYPES.has(event.type) && event.seq > lastSent + 1) await catchUp();
              send(event);
            });
          // A run that finished before this stream with nothing left to replay ends at once.
          const current = await deps.jobService.getForUser(currentUser(request), job.id);
          if (TERMINAL.has(current.status) && !closed) {
            for (const event of await deps.events.replay(job.id, job.user_id, lastSent)) send(event);
            close();
          }
          if (closing) close();
        } catch (error) {
          request.log.error({ err: error }, 'status stream failed');
          close();
        }
      },
    );
  };
}
