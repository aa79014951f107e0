import type { FastifyPluginAsync } from 'fastify';
import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { UploadRow } from '../../db/schema.js';
import { AtelierError } from '../../errors/atelier-error.js';
import type { AppDeps } from '../app-deps.js';
import { currentUser, requireUser } from '../plugins/auth.js';
import { requestOrigin } from '../plugins/origin.js';
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

/**
 * Uploads of input images: presigned (a single-use URL that takes the raw bytes) or direct
 * (multipart, field `file`). Both end in the same validated upload record.
 */
export function uploadRoutes(deps: AppDeps): FastifyPluginAsync {
  const uploads = deps.uploads;
  const maxBytes = deps.config.uploads.maxBytes;
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
          schema: {
            tags: ['uploads'],
            summary: 'Upload one image directly (multipart/form-data, field `file`)',
            security: [{ bearerAuth: [] }],
            consumes: ['multipart/form-data'],
            response: { 201: UploadView, ...errorResponses },
          },
        },
        async (request, reply) => {
          if (!request.isMultipart()) throw new AtelierError('unsupported_media_type', 'Expected multipart/form-data with a field named file');
          const file = await request.file();
          if (!file || file.fieldname !== 'file') throw new AtelierError('invalid_parameter', 'Expected a multipart field named file', { field: 'file' });
          let bytes: Buffer;
          try {
            bytes = await file.toBuffer();
          } catch (error) {
            if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
              throw new AtelierError('image_too_large', `Expected at most ${maxBytes} bytes for file`, { field: 'file' });
            }
            throw error;
          }
          return reply.code(201).send(view(await uploads.receiveDirect(currentUser(request), file.filename || 'upload', bytes)));
        },
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
        },
        async (request, reply) => reply.code(201).send(view(await uploads.receiveFromUrl(currentUser(request), request.body.url))),
      );

      app.get(
        '/api/uploads/:uploadId',
        { schema: { tags: ['uploads'], summary: 'An upload and its metadata', security: [{ bearerAuth: [] }], params: UploadParams, response: { 200: UploadView, ...errorResponses } } },
        async (request) => view(await uploads.get(currentUser(request), request.params.uploadId)),
      );
    });
  };
}
