import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { UploadRow } from '../../db/schema.js';
import { AtelierError } from '../../errors/atelier-error.js';
import type { AppDeps } from '../app-deps.js';
import { currentUser, requireUser } from '../plugins/auth.js';
import { requestOrigin } from '../plugins/origin.js';
import { createUploadRateLimit, type UploadRateLimit } from '../plugins/upload-rate-limit.js';
import { errorResponses } from '../schemas/common.js';

const UploadView = Type.Object({
  uploadId: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('ready')]),
  filename: Type.String(),
  metadata: Type.Union([
    Type.Object(
      {
        format: Type.String(),
        width: Type.Integer(),
        height: Type.Integer(),
        mode: Type.String(),
        has_alpha: Type.Boolean(),
        aspect_ratio: Type.Number(),
        pixel_count: Type.Integer(),
        file_size_bytes: Type.Integer(),
        sha256: Type.String(),
      },
      { description: 'Seed 001 image metadata' },
    ),
    Type.Null(),
  ]),
  createdAt: Type.String(),
});

const UploadParams = Type.Object({ uploadId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

function view(row: UploadRow) {
  return {
    uploadId: row.id,
    status: row.status,
    filename: row.filename,
    metadata: row.metadata ? JSON.parse(row.metadata) : null,
    createdAt: new Date(Number(row.created_at)).toISOString(),
  };
}

/** Room for the multipart framing around the file: boundaries and part headers. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

/** The multipart parser's limit errors (@fastify/multipart) that mean "not one file field". */
const PART_LIMIT_CODES = new Set(['FST_PARTS_LIMIT', 'FST_FILES_LIMIT', 'FST_FIELDS_LIMIT', 'FST_PROTO_VIOLATION']);

/**
 * What went wrong reading a multipart body, as a catalog error. Busboy reports a missing
 * boundary, a boundary that never appears or a part cut before the closing boundary with
 * plain Errors, which used to surface as 500 `internal_error` (issue #14 §7).
 */
function multipartError(error: unknown, maxBytes: number): AtelierError {
  if (error instanceof AtelierError) return error;
  const code = (error as { code?: unknown }).code;
  if (code === 'FST_REQ_FILE_TOO_LARGE') return new AtelierError('image_too_large', `Expected at most ${maxBytes} bytes for file`, { field: 'file' });
  if (typeof code === 'string' && PART_LIMIT_CODES.has(code)) {
    return new AtelierError('invalid_parameter', 'Expected exactly one multipart part: a file field named file', { field: 'file' });
  }
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') return new AtelierError('unsupported_media_type', 'Expected multipart/form-data with a field named file');
  const reason = error instanceof Error ? error.message.split('\n')[0]!.replace(/^Multipart: /, '') : String(error);
  return new AtelierError('invalid_body', `The multipart/form-data body is malformed: ${reason}`, { cause: error });
}

/** A slot of the per-user upload limits, freed when the upload is done or never started. */
interface UploadSlot {
  release(): void;
  handling: boolean;
}

/**
 * Takes the uploader's slot before the body is read (an `onRequest` hook of the route, after
 * authentication), so a refusal comes before any "100 Continue" and any decode.
 */
function takeSlot(limit: UploadRateLimit, slots: WeakMap<FastifyRequest, UploadSlot>, options: { concurrent: boolean }) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const slot: UploadSlot = { release: limit.acquire(currentUser(request), options), handling: false };
    slots.set(request, slot);
    // Refused before the handler (validation, a client gone): free it with the response.
    reply.raw.once('close', () => {
      if (!slot.handling) slot.release();
    });
  };
}

/** Runs a handler holding the request's upload slot, and frees it when the handler is done. */
async function holdingSlot<T>(slots: WeakMap<FastifyRequest, UploadSlot>, request: FastifyRequest, work: () => Promise<T>): Promise<T> {
  const slot = slots.get(request);
  if (slot) slot.handling = true;
  try {
    return await work();
  } finally {
    slot?.release();
  }
}

/**
 * Uploads of input images: presigned (a single-use URL that takes the raw bytes) or direct
 * (multipart, field `file`). Both end in the same validated upload record. Uploads count
 * against per-user limits (`uploads.perMinute`, `uploads.concurrent`): a presign counts one
 * per minute (its single-use PUT is then free); direct and URL uploads also hold a concurrent
 * slot until their image is checked.
 */
export function uploadRoutes(deps: AppDeps): FastifyPluginAsync {
  const uploads = deps.uploads;
  const maxBytes = deps.config.uploads.maxBytes;
  const multipartLimit = maxBytes + MULTIPART_OVERHEAD_BYTES;
  const limit = createUploadRateLimit({
    perMinute: deps.config.uploads.perMinute,
    concurrent: deps.config.uploads.concurrent,
    exemptAdmins: deps.config.rateLimits.exemptAdmins,
  });
  const slots = new WeakMap<FastifyRequest, UploadSlot>();
  return async (plugin) => {
    // The presigned PUT is authorised by its signature, like an S3 presigned URL: no token.
    await plugin.register(async (open) => {
      open.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBytes }, (_request, body, done) => done(null, body));
      const app = open.withTypeProvider<TypeBoxTypeProvider>();
      app.put(
        '/api/uploads/:uploadId/content',
        {
          bodyLimit: maxBytes,
          schema: {
            tags: ['uploads'],
            summary: 'Send the bytes of a presigned upload (single use)',
            description: 'The raw image bytes (PNG, JPEG or WEBP; the Content-Type is not trusted). Authorised by the URL signature.',
            params: UploadParams,
            querystring: Type.Object({ expires: Type.String(), signature: Type.String() }),
            response: { 200: UploadView, ...errorResponses },
          },
        },
        async (request) => {
          const body = request.body;
          if (!Buffer.isBuffer(body) || body.length === 0) throw new AtelierError('invalid_image', 'Expected the image bytes as the request body');
          return view(await uploads.receivePresigned(request.params.uploadId, request.query, body));
        },
      );
    });

    await plugin.register(async (authed) => {
      requireUser(authed, deps.users);
      await authed.register(multipart, { limits: { fileSize: maxBytes, files: 1, fields: 0, parts: 1 } });
      const app = authed.withTypeProvider<TypeBoxTypeProvider>();

      app.post(
        '/api/uploads/presign',
        {
          onRequest: takeSlot(limit, slots, { concurrent: false }),
          schema: {
            tags: ['uploads'],
            summary: 'Get a single-use URL to upload one image',
            security: [{ bearerAuth: [] }],
            body: Type.Object(
              {
                filename: Type.String({ minLength: 1, maxLength: 255 }),
                content_type: Type.String({ minLength: 1, maxLength: 100, description: 'Informational: the bytes decide the format' }),
                size_bytes: Type.Integer({ minimum: 1 }),
              },
              { additionalProperties: false },
            ),
            response: {
              201: Type.Object({ uploadId: Type.String(), uploadUrl: Type.String(), method: Type.Literal('PUT'), headers: Type.Record(Type.String(), Type.String()), expiresAt: Type.String() }),
              ...errorResponses,
            },
          },
        },
        async (request, reply) => {
          const { row, uploadPath } = await uploads.presign(currentUser(request), request.body);
          return reply.code(201).send({
            uploadId: row.id,
            uploadUrl: new URL(uploadPath, requestOrigin(request, deps.config.publicUrl)).toString(),
            method: 'PUT' as const,
            headers: { 'content-type': request.body.content_type },
            expiresAt: new Date(Number(row.url_expires_at)).toISOString(),
          });
        },
      );

      app.post(
        '/api/uploads',
        {
          // Read by the multipart parser, not Fastify's: this bounds the declared length (and
          // `Expect: 100-continue`); the file itself is bounded by `maxBytes` as it streams.
          bodyLimit: multipartLimit,
          onRequest: takeSlot(limit, slots, { concurrent: true }),
          schema: {
            tags: ['uploads'],
            summary: 'Upload one image directly (multipart/form-data, field `file`)',
            security: [{ bearerAuth: [] }],
            consumes: ['multipart/form-data'],
            response: { 201: UploadView, ...errorResponses },
          },
        },
        async (request, reply) =>
          holdingSlot(slots, request, async () => {
            if (!request.isMultipart()) throw new AtelierError('unsupported_media_type', 'Expected multipart/form-data with a field named file');
            const declared = Number(request.headers['content-length']);
            if (declared > multipartLimit) throw new AtelierError('body_too_large', `Expected a body of at most ${multipartLimit} bytes but the request declares ${declared}`);
            let filename: string;
            let bytes: Buffer;
            try {
              const file = await request.file();
              if (!file || file.fieldname !== 'file') throw new AtelierError('invalid_parameter', 'Expected a multipart field named file', { field: 'file' });
              filename = file.filename;
              bytes = await file.toBuffer();
            } catch (error) {
              throw multipartError(error, maxBytes);
            }
            return reply.code(201).send(view(await uploads.receiveDirect(currentUser(request), filename || 'upload', bytes)));
          }),
      );

      app.post(
        '/api/uploads/from-url',
        {
          schema: {
            tags: ['uploads'],
            summary: 'Upload one image by fetching a public URL',
            description: 'Fetched server-side with SSRF protection: private, loopback, link-local and cloud-metadata addresses are refused (checked after DNS and on every redirect), with caps on size, redirects and time.',
            security: [{ bearerAuth: [] }],
            body: Type.Object({ url: Type.String({ minLength: 1, maxLength: 2048 }) }, { additionalProperties: false }),
            response: { 201: UploadView, ...errorResponses },
          },
          onRequest: takeSlot(limit, slots, { concurrent: true }),
        },
        async (request, reply) => holdingSlot(slots, request, async () => reply.code(201).send(view(await uploads.receiveFromUrl(currentUser(request), request.body.url)))),
      );

      app.get(
        '/api/uploads/:uploadId',
        { schema: { tags: ['uploads'], summary: 'An upload and its metadata', security: [{ bearerAuth: [] }], params: UploadParams, response: { 200: UploadView, ...errorResponses } } },
        async (request) => view(await uploads.get(currentUser(request), request.params.uploadId)),
      );
    });
  };
}
