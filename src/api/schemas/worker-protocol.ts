import { Type, type Static } from 'typebox';
import type { JobSpec } from '../../jobs/job-spec.js';

/**
 * The wire shapes of the remote-worker protocol (docs/worker-protocol.md), defined once: the
 * routes validate and document with these schemas, and the server side (src/remote-workers)
 * and the client (src/reference-worker) use their `Static` types.
 */

/**
 * The worker protocol version this server speaks, `major.minor`. A worker states the one it
 * speaks in its claim; a different major is refused, and a job needing a newer minor (1.1:
 * `spec.loras` and `spec.backendSettings`) is not run by an older worker. History in
 * docs/worker-protocol.md.
 */
export const WORKER_PROTOCOL_VERSION = '1.1';
/** What a worker that states no version speaks: the protocol from before versions existed. */
export const UNVERSIONED_WORKER_PROTOCOL = '1.0';
const ProtocolVersion = (description: string) => Type.String({ pattern: '^[0-9]{1,4}\\.[0-9]{1,4}$', description });

export const LeaseToken = Type.String({ minLength: 1, maxLength: 200, description: 'The lease_token the claim returned' });
const Free = (description: string) => Type.Object({}, { additionalProperties: true, description });
/** Room for a base64 preview image in a heartbeat. */
export const HEARTBEAT_BODY_LIMIT = 8 * 1024 * 1024;
export const COMPLETE_BODY_LIMIT = 4 * 1024 * 1024;
/** Most assets one callback may name (a batch is far smaller). */
export const MAX_ASSETS = 64;

export const ClaimRequestSchema = Type.Object(
  {
    backends: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 50, description: 'Remote backends this worker serves; default all' })),
    wait_seconds: Type.Optional(Type.Number({ minimum: 0, maximum: 30, description: 'Long-poll up to this long (default 0: answer at once)' })),
    upload_mode: Type.Optional(Type.Union([Type.Literal('direct'), Type.Literal('presigned')], { description: 'Preferred upload mode; presigned needs disk storage, else direct is used' })),
    worker_id: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'This process (host, GPU), recorded as the lease owner' })),
    protocol_version: Type.Optional(ProtocolVersion(`The worker protocol version this worker speaks (this server: ${WORKER_PROTOCOL_VERSION}); default ${UNVERSIONED_WORKER_PROTOCOL}. Another major is refused (422 worker_protocol_unsupported)`)),
  },
  { additionalProperties: false },
);

const LoraSchema = Type.Object({ name: Type.String(), weight: Type.Number() });

export const ClaimedJobSchema = Type.Object({
  protocol_version: ProtocolVersion('The worker protocol version of this answer (the server\'s)'),
  job_id: Type.String(),
  lease_token: Type.String({ description: 'Send it with every call about this job; it dies with the lease' }),
  attempt: Type.Integer({ description: '1-based attempt number of this lease' }),
  max_attempts: Type.Integer(),
  lease_expires_at: Type.String({ description: 'ISO time; every heartbeat extends it by lease_seconds' }),
  lease_seconds: Type.Number(),
  heartbeat_interval_seconds: Type.Number({ description: 'Heartbeat at least this often (a third of the lease)' }),
  backend: Type.String({ description: 'The remote backend (configuration name) the job is for' }),
  model: Type.String(),
  mode: Type.String({ description: 't2i, i2i, t2v, i2v or ti2v' }),
  spec: Type.Object(
    {
      loras: Type.Optional(Type.Immutable(Type.Array(LoraSchema, { description: "The request's LoRAs, applied after backendSettings.loras (a request entry of the same name replaces the model's)" }))),
      backendSettings: Type.Optional(
        Type.Object(
          {
            checkpoint: Type.Optional(Type.String()),
            vae: Type.Optional(Type.String()),
            loras: Type.Optional(Type.Immutable(Type.Array(LoraSchema))),
            clipSkip: Type.Optional(Type.Integer()),
          },
          { description: "The model's settings for the local backend: checkpoint (over the worker's own), VAE, its LoRAs, clip skip" },
        ),
      ),
    },
    { additionalProperties: true, description: 'The JobSpec: every parameter of the job (camelCase), see docs/worker-protocol.md' },
  ),
  inputs: Type.Object(
    {
      reference: Type.Optional(Type.String()),
      start: Type.Optional(Type.String()),
      end: Type.Optional(Type.String()),
      guidance: Type.Optional(Type.Array(Type.String(), { description: 'spec.guidanceImages, in order' })),
      controlnet: Type.Optional(Type.Array(Type.String(), { description: 'Control images, index-aligned with spec.controlnet' })),
    },
    { description: 'Signed download URLs of the input images (no token needed)' },
  ),
  upload: Type.Object({
    mode: Type.Union([Type.Literal('direct'), Type.Literal('presigned')]),
    method: Type.Literal('PUT'),
    type: Type.Union([Type.Literal('image'), Type.Literal('video')]),
    content_type: Type.String(),
    count: Type.Integer({ description: 'How many assets the job must deliver (images of the batch, or 1 video)' }),
    max_bytes: Type.Integer(),
    urls: Type.Array(Type.String(), { description: 'One upload URL per asset index' }),
    expires_at: Type.Optional(Type.String()),
    complete_url: Type.String({
      description: 'The completion callback. It also takes multipart/form-data: the `result` part (the callback JSON) first, then one file part per asset named as in complete_parts — outputs and callback in one request, no PUT',
    }),
    complete_parts: Type.Array(Type.String(), { description: 'The file part name of each asset index in a multipart completion: asset_0, asset_1, …' }),
  }),
});

export const HeartbeatRequestSchema = Type.Object(
  {
    lease_token: LeaseToken,
    // Kept in jobs.progress_step/progress_total, 32-bit integers: a larger one is a 422, not a write PostgreSQL refuses.
    progress: Type.Optional(
      Type.Object({ step: Type.Integer({ minimum: 0, maximum: 2_147_483_647 }), total_steps: Type.Integer({ minimum: 0, maximum: 2_147_483_647 }) }, { additionalProperties: false }),
    ),
    preview_b64: Type.Optional(Type.String({ maxLength: HEARTBEAT_BODY_LIMIT, description: 'A JPEG, PNG or WEBP preview, base64' })),
  },
  { additionalProperties: false },
);

export const HeartbeatResultSchema = Type.Object({ continue: Type.Boolean(), status: Type.String(), lease_expires_at: Type.Optional(Type.String()) });

export const CallbackAssetSchema = Type.Object(
  {
    type: Type.Union([Type.Literal('image'), Type.Literal('video')]),
    url: Type.String({ minLength: 1, maxLength: 1024, description: 'The url (staging key) the upload returned' }),
    thumbnail_url: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
    metadata: Type.Optional(Type.Union([Free('Seed 000 asset metadata; seed is used when given'), Type.Null()])),
    index: Type.Optional(Type.Integer({ minimum: 0, maximum: 999 })),
  },
  { additionalProperties: false },
);

/** Seed 000's callback, plus the lease token and optional error code / retry hint. */
export const CompleteRequestSchema = Type.Object(
  {
    job_id: Type.Optional(Type.String({ maxLength: 64 })),
    lease_token: LeaseToken,
    status: Type.Union([Type.Literal('completed'), Type.Literal('succeeded'), Type.Literal('failed')]),
    assets: Type.Optional(Type.Array(CallbackAssetSchema, { maxItems: MAX_ASSETS })),
    error_message: Type.Optional(Type.Union([Type.String({ maxLength: 10_000 }), Type.Null()])),
    error_code: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    retryable: Type.Optional(Type.Boolean()),
    metadata: Type.Optional(Type.Union([Free('Free-form worker metadata'), Type.Null()])),
  },
  { additionalProperties: false },
);

/** A multipart completion's asset: as in the JSON callback, but the bytes travel in the request, so `url` may be omitted or name the part. */
export const MultipartAssetSchema = Type.Object(
  {
    ...CallbackAssetSchema.properties,
    url: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'The file part, `asset_{index}` (or the bare index); may be omitted' })),
  },
  { additionalProperties: false },
);

/** The `result` part of a multipart completion: the callback JSON, with `assets` optional (asset metadata only). */
export const MultipartResultSchema = Type.Object(
  {
    ...CompleteRequestSchema.properties,
    assets: Type.Optional(Type.Array(MultipartAssetSchema, { maxItems: MAX_ASSETS })),
  },
  { additionalProperties: false },
);

/** The file part name of asset `index` in a multipart completion. */
export function assetPartName(index: number): string {
  return `asset_${index}`;
}

export const CompleteResultSchema = Type.Object({
  job_id: Type.String(),
  status: Type.Union([Type.Literal('succeeded'), Type.Literal('retrying'), Type.Literal('failed')]),
  attempt: Type.Integer(),
  assets: Type.Array(
    Type.Object({
      id: Type.String(),
      index: Type.Integer(),
      type: Type.String(),
      url: Type.String({ description: 'Storage key of the stored original' }),
      thumbnail_url: Type.Union([Type.String(), Type.Null()]),
      metadata: Free('SPEC §4 metadata, as stored'),
    }),
  ),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
  retry_at: Type.Optional(Type.String()),
});

export const UploadResultSchema = Type.Object({
  index: Type.Integer(),
  url: Type.String({ description: 'The staging key: use it as assets[].url in the callback' }),
  bytes: Type.Integer(),
  sha256: Type.String(),
});

export type ClaimRequest = Static<typeof ClaimRequestSchema>;
/** A claimed job, as POST /api/worker/claim answers; `spec` is the job's JobSpec. */
export type ClaimedJob = Omit<Static<typeof ClaimedJobSchema>, 'spec'> & { readonly spec: JobSpec };
export type HeartbeatRequest = Static<typeof HeartbeatRequestSchema>;
export type HeartbeatResult = Static<typeof HeartbeatResultSchema>;
export type CallbackAsset = Static<typeof CallbackAssetSchema>;
export type CompleteRequest = Static<typeof CompleteRequestSchema>;
export type MultipartResult = Static<typeof MultipartResultSchema>;
export type CompleteResult = Static<typeof CompleteResultSchema>;
export type UploadResult = Static<typeof UploadResultSchema>;
