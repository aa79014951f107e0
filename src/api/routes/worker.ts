import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { BackendInfo } from '../../backends/backend.js';
import { AtelierError } from '../../errors/atelier-error.js';
import { readCompletionForm } from '../../remote-workers/completion-form.js';
import type { WorkerService } from '../../remote-workers/worker-service.js';
import { ajvErrorsToAtelierError } from '../../validation/format-ajv-error.js';
import { createAjv } from '../../validation/create-ajv.js';
import type { WorkerTokenRow } from '../../db/repos/worker-tokens-repo.js';
import { bearerToken, requireAdmin } from '../plugins/auth.js';
import { requestOrigin } from '../plugins/origin.js';
import { errorResponses } from '../schemas/common.js';
import {
  ClaimedJobSchema,
  ClaimRequestSchema,
  COMPLETE_BODY_LIMIT,
  type CompleteRequest,
  CompleteRequestSchema,
  CompleteResultSchema,
  HEARTBEAT_BODY_LIMIT,
  HeartbeatRequestSchema,
  HeartbeatResultSchema,
  LeaseToken,
  MAX_ASSETS,
  MultipartResultSchema,
  UploadResultSchema,
} from '../schemas/worker-protocol.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated remote worker; set by the worker-token hook on /api/worker routes. */
    worker: WorkerTokenRow | null;
  }
}

export interface WorkerRouteDeps {
  readonly workers: WorkerService;
  readonly backends: ReadonlyMap<string, BackendInfo>;
  /** Names of the remote backends. */
  readonly remoteBackends: readonly string[];
  readonly publicUrl: string | undefined;
  readonly leaseSeconds: number;
}

const security = [{ workerToken: [] }];
const JobParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
const Free = (description: string) => Type.Object({}, { additionalProperties: true, description });

/** The parts of a multipart completion, for the API docs only (ajv ignores `properties` on a body it never sees). */
const MultipartFormDoc = Type.Unsafe<unknown>({
  properties: {
    result: { type: 'string', description: 'The callback JSON (as for application/json; assets optional). The first part; a text field or a file.' },
    asset_0: { type: 'string', format: 'binary', description: 'Output 0 (PNG, or the MP4 of a video job); asset_1… for a batch' },
  },
  required: ['result'],
});

/**
 * Whatever of a multipart body was left unread — parts a repeat or a refusal did not need —
 * is read off the wire and dropped, so the connection stays usable.
 */
function discardUnread(raw: IncomingMessage): void {
  if (raw.readableEnded) return;
  raw.unpipe();
  raw.resume();
}

/** Sets `request.worker` from `Authorization: Bearer atw_…`; user tokens are refused. */
async function authenticateWorker(request: FastifyRequest, workers: WorkerService): Promise<WorkerTokenRow> {
  const worker = await workers.authenticate(bearerToken(request));
  request.worker = worker;
  return worker;
}

/**
 * The remote-worker API under /api/worker (docs/worker-protocol.md). Authenticated by worker
 * tokens only — never by user API tokens — except presigned asset uploads, which carry a
 * signature instead.
 */
export function workerRoutes(deps: WorkerRouteDeps): FastifyPluginAsync {
  const { workers } = deps;
  return async (plugin) => {
    plugin.decorateRequest('worker', null);

    // Asset uploads: raw bytes, streamed to storage. A scope of its own so the body is never
    // parsed (any content type) and a presigned URL needs no token.
    await plugin.register(async (raw) => {
      raw.removeAllContentTypeParsers();
      raw.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
      const app = raw.withTypeProvider<TypeBoxTypeProvider>();
      app.put(
        '/api/worker/jobs/:id/assets/:index',
        {
          schema: {
            tags: ['worker'],
            summary: 'Upload one output (raw PNG or MP4 bytes)',
            description:
              'Direct: `?lease_token=…` with the worker token. Presigned: `?attempt&expires&signature` as returned by the claim, no token. The bytes are checked (PNG or MP4 magic, size) and staged until the completion callback.',
            security,
            params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }), index: Type.Integer({ minimum: 0, maximum: 999 }) }, { additionalProperties: false }),
            querystring: Type.Object({
              lease_token: Type.Optional(LeaseToken),
              attempt: Type.Optional(Type.Integer({ minimum: 1 })),
              expires: Type.Optional(Type.String({ maxLength: 20 })),
              signature: Type.Optional(Type.String({ maxLength: 200 })),
            }),
            response: {
              200: UploadResultSchema,
              ...errorResponses,
            },
          },
        },
        async (request) => {
          const { query } = request;
          const body = request.body as Readable | undefined;
          if (!body || typeof (body as Readable).pipe !== 'function') throw new AtelierError('invalid_image', 'Expected the file bytes as the request body');
          if (query.signature !== undefined) {
            if (query.attempt === undefined || query.expires === undefined) throw new AtelierError('signature_invalid', 'The presigned upload URL is incomplete');
            return workers.receiveUpload(request.params.id, request.params.index, { kind: 'signed', attempt: query.attempt, expires: query.expires, signature: query.signature }, body);
          }
          const worker = await authenticateWorker(request, workers);
          if (!query.lease_token) throw new AtelierError('invalid_parameter', 'Expected the lease_token query parameter (or a presigned URL)', { field: 'lease_token' });
          return workers.receiveUpload(request.params.id, request.params.index, { kind: 'lease', worker, leaseToken: query.lease_token }, body);
        },
      );
    });

    await plugin.register(async (authed) => {
      authed.addHook('onRequest', async (request) => {
        await authenticateWorker(request, workers);
      });
      const app = authed.withTypeProvider<TypeBoxTypeProvider>();

      app.get(
        '/api/worker/info',
        {
          schema: {
            tags: ['worker'],
            summary: 'Who this worker token is, and the remote backends it may serve',
            security,
            response: {
              200: Type.Object({
                worker: Type.Object({ id: Type.String(), name: Type.String() }),
                backends: Type.Array(Type.Object({ name: Type.String(), label: Type.String(), capabilities: Free('modes, samplers, limits') })),
                lease_seconds: Type.Number(),
                heartbeat_interval_seconds: Type.Number(),
                max_wait_seconds: Type.Number(),
                upload_modes: Type.Array(Type.String()),
                multipart_completion: Type.Boolean({ description: 'The completion callback also takes the outputs as multipart file parts (no upload before it)' }),
              }),
              ...errorResponses,
            },
          },
        },
        async (request) => ({
          worker: { id: request.worker!.id, name: request.worker!.name },
          backends: deps.remoteBackends.map((name) => {
            const backend = deps.backends.get(name)!;
            return { name, label: backend.label, capabilities: { ...backend.capabilities } };
          }),
          lease_seconds: deps.leaseSeconds,
          heartbeat_interval_seconds: Math.max(0.1, Math.round((deps.leaseSeconds / 3) * 1000) / 1000),
          max_wait_seconds: workers.maxWaitSeconds,
          upload_modes: workers.presignedUploads ? ['direct', 'presigned'] : ['direct'],
          multipart_completion: true,
        }),
      );

      app.post(
        '/api/worker/claim',
        {
          schema: {
            tags: ['worker'],
            summary: 'Long-poll for a job: 200 with a leased job, or 204 when none arrived in wait_seconds',
            security,
            body: ClaimRequestSchema,
            response: { 200: ClaimedJobSchema, 204: Type.Null({ description: 'No job within wait_seconds' }), ...errorResponses },
          },
        },
        async (request, reply) => {
          // A long poll whose client hung up must not hand out a job nobody will run.
          const gone = new AbortController();
          reply.raw.on('close', () => {
            if (!reply.raw.writableFinished) gone.abort();
          });
          const origin = requestOrigin(request, deps.publicUrl);
          const claimed = await workers.claim(request.worker!, request.body ?? {}, origin, gone.signal);
          if (!claimed) return reply.code(204).send(null);
          return claimed;
        },
      );

      app.post(
        '/api/worker/jobs/:id/heartbeat',
        {
          bodyLimit: HEARTBEAT_BODY_LIMIT,
          schema: {
            tags: ['worker'],
            summary: 'Keep the lease; report progress and a live preview',
            description: '`continue: false` means the job was canceled: stop the backend and drop the job. 409 lease_lost: the lease is gone, drop the job.',
            security,
            params: JobParams,
            body: HeartbeatRequestSchema,
            response: {
              200: HeartbeatResultSchema,
              ...errorResponses,
            },
          },
        },
        async (request) => workers.heartbeat(request.worker!, request.params.id, request.body),
      );

      // The completion callback: JSON naming staged uploads, or multipart/form-data carrying
      // the outputs. A scope of its own so only this route parses multipart.
      await authed.register(async (scope) => {
        await scope.register(multipart, {
          // Busboy stops a file one byte past the upload limit, so the check refuses it (body_too_large).
          limits: { fileSize: workers.maxUploadBytes + 1, fieldSize: COMPLETE_BODY_LIMIT, fields: 2, files: MAX_ASSETS + 1, parts: MAX_ASSETS + 3 },
          throwFileSizeLimit: false,
        });
        const validateResult = createAjv('strict').compile(MultipartResultSchema);
        const completeApp = scope.withTypeProvider<TypeBoxTypeProvider>();
        completeApp.post(
          '/api/worker/jobs/:id/complete',
          {
            bodyLimit: COMPLETE_BODY_LIMIT,
            schema: {
              tags: ['worker'],
              summary: 'The completion callback (seed 000 format): the outputs, or a failure',
              description:
                'JSON: the assets name the keys their uploads returned. multipart/form-data: the outputs travel in the callback itself — a part `result` (the callback JSON; `assets` optional, for metadata) first, then one file part per asset, `asset_0`, `asset_1`… — with no upload before it. Success commits every asset and the success in one transaction guarded by the attempt; a callback from a lost lease is a 409 lease_lost and never adds assets. Repeating the same callback returns the same answer.',
              security,
              consumes: ['application/json', 'multipart/form-data'],
              params: JobParams,
              body: {
                content: {
                  'application/json': { schema: CompleteRequestSchema },
                  // Documents the parts; validated while they stream, not by Fastify.
                  'multipart/form-data': { schema: MultipartFormDoc },
                },
              },
              response: { 200: CompleteResultSchema, ...errorResponses },
            },
          },
          async (request) => {
            const worker = request.worker!;
            if (!request.isMultipart()) {
              // Only a JSON body was validated (by its content type's schema); no body at all was not.
              if (typeof request.body !== 'object' || request.body === null) {
                throw new AtelierError('invalid_body', 'Expected the callback as application/json, or as multipart/form-data with the outputs');
              }
              return workers.complete(worker, request.params.id, request.body as CompleteRequest);
            }
            try {
              const form = await readCompletionForm(request.parts()[Symbol.asyncIterator](), COMPLETE_BODY_LIMIT);
              if (!validateResult(form.result)) throw ajvErrorsToAtelierError(validateResult.errors ?? [], form.result, 'result');
              return await workers.completeWithParts(worker, request.params.id, form.result, form.files);
            } finally {
              discardUnread(request.raw);
            }
          },
        );
      });
    });
  };
}

/** Admin management of worker tokens; registered inside the user-authenticated scope. */
export function workerAdminRoutes(workers: WorkerService): FastifyPluginAsync {
  return async (plugin: FastifyInstance) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    const WorkerView = Type.Object({ id: Type.String(), name: Type.String(), created_at: Type.String(), last_seen_at: Type.Union([Type.String(), Type.Null()]) });
    const view = (row: { id: string; name: string; created_at: number; last_seen_at: number | null }) => ({
      id: row.id,
      name: row.name,
      created_at: new Date(Number(row.created_at)).toISOString(),
      last_seen_at: row.last_seen_at === null ? null : new Date(Number(row.last_seen_at)).toISOString(),
    });

    app.post(
      '/api/admin/workers',
      {
        schema: {
          tags: ['admin'],
          summary: 'Create a remote worker and its token (atw_…)',
          description: 'The token is shown once; only its hash is stored. It works on /api/worker only.',
          security: [{ bearerAuth: [] }],
          body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }),
          response: { 201: Type.Object({ id: Type.String(), name: Type.String(), token: Type.String(), created_at: Type.String() }), ...errorResponses },
        },
      },
      async (request, reply) => {
        requireAdmin(request);
        const created = await workers.createWorker(request.body.name);
        return reply.code(201).send({ id: created.id, name: created.name, token: created.token, created_at: new Date(created.createdAt).toISOString() });
      },
    );

    app.get(
      '/api/admin/workers',
      { schema: { tags: ['admin'], summary: 'Remote workers and when each was last seen', security: [{ bearerAuth: [] }], response: { 200: Type.Object({ workers: Type.Array(WorkerView) }), ...errorResponses } } },
      async (request) => {
        requireAdmin(request);
        return { workers: (await workers.listWorkers()).map(view) };
      },
    );

    app.delete(
      '/api/admin/workers/:id',
      {
        schema: {
          tags: ['admin'],
          summary: 'Revoke a worker token (by id or name)',
          security: [{ bearerAuth: [] }],
          params: JobParams,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        requireAdmin(request);
        if (!(await workers.removeWorker(request.params.id))) throw new AtelierError('not_found', `No worker '${request.params.id}'`, { field: 'id' });
        return reply.code(204).send(null);
      },
    );
  };
}
