import { Type, type Static } from 'typebox';
import { ASPECT_RATIOS } from '../jobs/aspect-ratio.js';
import { A1111BackendSchema, ComfyUIBackendSchema, OpenAIBackendSchema } from './backend-config-schema.js';
import { CONTROLNET_TYPES, MAX_GUIDANCE_IMAGES } from '../jobs/conditioning.js';
import { LORA_NAME_PATTERN, LORA_WEIGHT_MAX, LORA_WEIGHT_MIN, MAX_LORAS } from '../jobs/loras.js';

/** A LoRA as the backend knows it: ComfyUI's file name under models/loras, A1111's LoRA name. */
const LoraNameSchema = Type.String({ minLength: 1, maxLength: 200, pattern: LORA_NAME_PATTERN });

/** What happens to a flagged output (src/media/safety/safety-policy.ts). */
const safetyPolicySchema = (options: { default?: string } = {}) => Type.Union([Type.Literal('off'), Type.Literal('flag'), Type.Literal('blur'), Type.Literal('block')], options);
/** porn + hentai at or above which an output is flagged; 0 flags everything. */
const safetyThresholdSchema = (options: { default?: number } = {}) => Type.Number({ minimum: 0, maximum: 1, ...options });

const ModelSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
    backend: Type.String({ minLength: 1 }),
    label: Type.String({ minLength: 1 }),
    modes: Type.Array(Type.Union([Type.Literal('t2i'), Type.Literal('i2i'), Type.Literal('t2v'), Type.Literal('i2v'), Type.Literal('ti2v')]), { minItems: 1 }),
    baseResolution: Type.Integer({ minimum: 64, maximum: 4096 }),
    defaultSteps: Type.Integer({ minimum: 1, maximum: 150 }),
    defaultCfgScale: Type.Number({ minimum: 0, maximum: 30 }),
    defaultSampler: Type.String({ minLength: 1 }),
    defaultAspectRatio: Type.Optional(Type.String({ enum: [...ASPECT_RATIOS] })),
    defaultFps: Type.Optional(Type.Integer({ minimum: 1, maximum: 60 })),
    defaultFrames: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    maxFrames: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    /** Prices for cost estimates (src/jobs/cost.ts); unset fields take DEFAULT_PRICING. */
    pricing: Type.Optional(
      Type.Object(
        {
          currency: Type.Optional(Type.Union([Type.Literal('USD'), Type.Literal('credits')])),
          base: Type.Optional(Type.Number({ minimum: 0 })),
          perMegapixelStep: Type.Optional(Type.Number({ minimum: 0 })),
          perFrame: Type.Optional(Type.Number({ minimum: 0 })),
          controlnet: Type.Optional(Type.Number({ minimum: 0 })),
          guidanceImage: Type.Optional(Type.Number({ minimum: 0 })),
          hiresFix: Type.Optional(Type.Number({ minimum: 1 })),
          lora: Type.Optional(Type.Number({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** Delivery preset of this model's images (SPEC §4); `media.defaultPreset` when unset. */
    deliveryPreset: Type.Optional(Type.String({ minLength: 1 })),
    /** This model's own output safety policy and/or threshold (README "Output safety"); the server's `safety` otherwise. */
    safety: Type.Optional(Type.Object({ policy: Type.Optional(safetyPolicySchema()), threshold: Type.Optional(safetyThresholdSchema()) }, { additionalProperties: false })),
    /** LoRA names a request may apply; absent: none (a request with loras is a 422). */
    loras: Type.Optional(Type.Array(LoraNameSchema, { uniqueItems: true, maxItems: 500 })),
    /** What the backend loads for this model, so one server can serve several models (src/jobs/backend-settings.ts). */
    backendSettings: Type.Optional(
      Type.Object(
        {
          checkpoint: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
          vae: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
          loras: Type.Optional(
            Type.Array(
              Type.Object({ name: LoraNameSchema, weight: Type.Number({ minimum: LORA_WEIGHT_MIN, maximum: LORA_WEIGHT_MAX }) }, { additionalProperties: false }),
              { maxItems: MAX_LORAS },
            ),
          ),
          clipSkip: Type.Optional(Type.Integer({ minimum: 1, maximum: 12 })),
        },
        { additionalProperties: false },
      ),
    ),
    default: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const ModeSchema = Type.Union([Type.Literal('t2i'), Type.Literal('i2i'), Type.Literal('t2v'), Type.Literal('i2v'), Type.Literal('ti2v')]);

/**
 * A `remote` backend is run by workers that pull its jobs over HTTP (docs/worker-protocol.md).
 * What it can do is declared here, since no worker may be connected when a job is submitted;
 * unset capabilities take the defaults in src/backends/remote/remote-backend-info.ts.
 */
const RemoteBackendSchema = Type.Object(
  {
    type: Type.Literal('remote'),
    /** What users see, e.g. "SDXL on the studio GPU". */
    label: Type.Optional(Type.String({ minLength: 1 })),
    modes: Type.Optional(Type.Array(ModeSchema, { minItems: 1 })),
    /** Accepted sampler names; the first is the default. */
    samplers: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    maxWidth: Type.Optional(Type.Integer({ minimum: 64, maximum: 16384 })),
    maxHeight: Type.Optional(Type.Integer({ minimum: 64, maximum: 16384 })),
    maxSteps: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    maxBatch: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
    cancel: Type.Optional(Type.Boolean()),
    preview: Type.Optional(Type.Boolean()),
    /** The workers run hires fix on text-to-image (builtin and a1111 workers do); default false: refused. */
    hiresFix: Type.Optional(Type.Boolean()),
    /** ControlNet types the workers apply (seed 002); default none. */
    controlnet: Type.Optional(Type.Array(Type.Union(CONTROLNET_TYPES.map((t) => Type.Literal(t))), { uniqueItems: true })),
    /** Most guidance images per job the workers take; default 0. */
    guidanceImages: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_GUIDANCE_IMAGES })),
  },
  { additionalProperties: false },
);

/** Each backend's schema by its `type`, so a bad entry is judged against its own kind only. */
export const BACKEND_SCHEMAS = {
  builtin: Type.Object({ type: Type.Literal('builtin') }, { additionalProperties: false }),
  remote: RemoteBackendSchema,
  comfyui: ComfyUIBackendSchema,
  a1111: A1111BackendSchema,
  openai: OpenAIBackendSchema,
} as const;

const BackendSchema = Type.Union([BACKEND_SCHEMAS.builtin, BACKEND_SCHEMAS.remote, BACKEND_SCHEMAS.comfyui, BACKEND_SCHEMAS.a1111, BACKEND_SCHEMAS.openai]);

/**
 * Every setting, with its default. Environment variables override `atelier.config.json`;
 * the mapping is in load-config.ts. Unknown keys are errors.
 */
export const ConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1', minLength: 1 }),
    port: Type.Integer({ default: 8787, minimum: 0, maximum: 65535 }),
    dataDir: Type.String({ default: './data', minLength: 1 }),
    /**
     * This node's identity, the owner of its leases: a restart with the same identity takes
     * back the jobs it was running at once. Generated and kept in dataDir when unset; set it
     * when dataDir does not survive a restart (a container). Two live nodes must never share one.
     */
    nodeId: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$' })),
    /** The first admin's token; generated (and kept in dataDir) when unset. */
    adminToken: Type.Optional(Type.String({ minLength: 16 })),
    /** `sqlite:<file>`; defaults to `<dataDir>/atelier.db`. */
    databaseUrl: Type.Optional(Type.String({ minLength: 1 })),
    /** Where media lives on disk; defaults to `<dataDir>/media`. */
    mediaDir: Type.Optional(Type.String({ minLength: 1 })),
    /** Where `atelier models pull` saves model files when `--dest` is not given (a backend's model folder). */
    modelsDir: Type.Optional(Type.String({ minLength: 1 })),
    /** `s3://bucket[/prefix]` stores media in S3 (or any S3-compatible server) instead of on disk. */
    storageUrl: Type.Optional(Type.String({ pattern: '^s3://' })),
    /** `redis://…` (or `rediss://`): the job queue (BullMQ) and the event bus (pub/sub) live in Redis, shared by every node. */
    redisUrl: Type.Optional(Type.String({ pattern: '^rediss?://[^\\s]+$' })),
    /** Prefix of every Redis key and channel of this deployment (several can share one Redis). */
    redisPrefix: Type.String({ default: 'atelier', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
    /** How long start-up waits for Redis to answer (it may still be starting) before refusing to start. */
    redisConnectTimeoutSeconds: Type.Number({ default: 10, minimum: 1, maximum: 600 }),
    s3: Type.Object(
      {
        region: Type.String({ default: 'us-east-1', minLength: 1 }),
        /** For S3-compatible servers (MinIO, R2, …): their URL. */
        endpoint: Type.Optional(Type.String({ format: 'uri' })),
        forcePathStyle: Type.Boolean({ default: false }),
        /** When unset, the AWS default credential chain applies. */
        accessKeyId: Type.Optional(Type.String({ minLength: 1 })),
        secretAccessKey: Type.Optional(Type.String({ minLength: 1 })),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * Extra or replacement delivery presets ({name, normal: {width, height, format: 'jpeg' |
     * 'webp' | 'avif', quality, effort?, progressive?}, high: {…}, extra?: [{name, fit: 'inside' |
     * 'cover', position?: 'attention' | 'entropy' | 'centre', …}], watermark?: {image | text,
     * position, opacity, size}}); merged with the defaults by name and checked at start-up by
     * validatePresets (src/media/image/presets.ts), whose errors name the field.
     */
    presets: Type.Array(Type.Object({ name: Type.String() }, { additionalProperties: true }), { default: [] }),
    /** Absolute origin for links in responses (behind a proxy); else taken from the request. */
    publicUrl: Type.Optional(Type.String({ format: 'uri' })),
    /** HMAC key for signed media URLs; generated (and kept in dataDir) when unset. */
    signingSecret: Type.Optional(Type.String({ minLength: 32 })),
    logLevel: Type.Union(
      [Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')],
      { default: 'info' },
    ),
    bodyLimitBytes: Type.Integer({ default: 1_048_576, minimum: 1024 }),
    runner: Type.Object(
      {
        /** Jobs this process runs at once (0: accept jobs but run none here). */
        concurrency: Type.Integer({ default: 1, minimum: 0, maximum: 64 }),
        leaseSeconds: Type.Number({ default: 30, minimum: 0.5 }),
        maxAttempts: Type.Integer({ default: 3, minimum: 1, maximum: 20 }),
        backoffBaseMs: Type.Integer({ default: 2000, minimum: 0 }),
        backoffMaxMs: Type.Integer({ default: 60_000, minimum: 0 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * How long a node trusts a remote worker's token it has checked (docs/worker-protocol.md):
     * a token revoked on another node, or with `atelier workers remove`, works here this long.
     */
    workerTokenCacheSeconds: Type.Number({ default: 5, minimum: 1, maximum: 300 }),
    media: Type.Object(
      {
        workspaceTtlHours: Type.Number({ default: 24, minimum: 0 }),
        /** Lifetime of signed workspace URLs (SPEC §4: 15–60 min). */
        workspaceUrlTtlSeconds: Type.Integer({ default: 3600, minimum: 60, maximum: 7 * 24 * 3600 }),
        /** Delivery preset for models that name none. */
        defaultPreset: Type.String({ default: 'stable-diffusion', minLength: 1 }),
        /** Lifetime of signed library URLs (SPEC §4: 24–72 h). */
        libraryUrlTtlSeconds: Type.Integer({ default: 48 * 3600, minimum: 60, maximum: 7 * 24 * 3600 }),
      },
      { additionalProperties: false, default: {} },
    ),
    uploads: Type.Object(
      {
        /** Largest input image (SPEC §9: 10 MB). */
        maxBytes: Type.Integer({ default: 10 * 1024 * 1024, minimum: 1024 }),
        /** Largest input image in pixels, checked from the header before decoding. */
        maxPixels: Type.Integer({ default: 40_000_000, minimum: 1 }),
        /** Longest side of an input image, checked from the header: a 1×20 000 000 PNG is 39 KB and takes seconds to decode. */
        maxEdge: Type.Integer({ default: 16_384, minimum: 1 }),
        /** Longest a check of an input image's pixels may take before the image is refused. */
        decodeTimeoutSeconds: Type.Integer({ default: 5, minimum: 1, maximum: 3600 }),
        /** Uploads a user may start per rolling minute (direct, from a URL, presigned); 0 turns it off. */
        perMinute: Type.Integer({ default: 60, minimum: 0 }),
        /** Uploads a user may have in flight at once (direct and from a URL); 0 turns it off. */
        concurrent: Type.Integer({ default: 4, minimum: 0 }),
        /** Lifetime of a presigned upload URL. */
        urlTtlSeconds: Type.Integer({ default: 900, minimum: 10, maximum: 7 * 24 * 3600 }),
      },
      { additionalProperties: false, default: {} },
    ),
    retention: Type.Object(
      {
        /** Workspace items, uploads and finished jobs' input copies older than this are deleted (seed 003: 30 days). Library items are kept. */
        days: Type.Integer({ default: 30, minimum: 1 }),
        /** Minutes between the server's retention sweeps; 0 turns them off (run `atelier cleanup` instead). */
        sweepIntervalMinutes: Type.Number({ default: 60, minimum: 0 }),
        /** Files no record owns (a crash between a write and its record) are deleted once this old. */
        orphanGraceHours: Type.Number({ default: 24, minimum: 0 }),
      },
      { additionalProperties: false, default: {} },
    ),
    cache: Type.Object(
      {
        /** How long a finished run can serve identical requests. */
        ttlDays: Type.Number({ default: 30, minimum: 0 }),
        /** `user`: requests hit only the same user's runs; `global`: anyone's (shares outputs across users). */
        scope: Type.Union([Type.Literal('user'), Type.Literal('global')], { default: 'user' }),
        /** When a request does not say: reuse only runs with the same fixed seed. */
        defaultMode: Type.Union([Type.Literal('seed-aware'), Type.Literal('seed-agnostic'), Type.Literal('off')], { default: 'seed-aware' }),
      },
      { additionalProperties: false, default: {} },
    ),
    rateLimits: Type.Object(
      {
        /** Jobs a user may submit per rolling hour (seed 003: 50); 0 turns it off. */
        perHour: Type.Integer({ default: 50, minimum: 0 }),
        /** Jobs a user may have queued or running at once (seed 003: 2); 0 turns it off. */
        concurrent: Type.Integer({ default: 2, minimum: 0 }),
        exemptAdmins: Type.Boolean({ default: true }),
        /** Per user name or id: { perHour?, concurrent? }. */
        perUser: Type.Record(Type.String(), Type.Object({ perHour: Type.Optional(Type.Integer({ minimum: 0 })), concurrent: Type.Optional(Type.Integer({ minimum: 0 })) }, { additionalProperties: false }), { default: {} }),
        concurrentRetryAfterSeconds: Type.Integer({ default: 5, minimum: 1 }),
      },
      { additionalProperties: false, default: {} },
    ),
    moderation: Type.Object(
      {
        /** Words and phrases refused in prompts (case-, spacing- and punctuation-insensitive). */
        blocklist: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
        checkNegativePrompt: Type.Boolean({ default: true }),
        /** A service answering POST {prompt, negative_prompt} with {flagged, reason?}. */
        external: Type.Optional(
          Type.Object(
            {
              url: Type.String({ format: 'uri' }),
              timeoutMs: Type.Integer({ default: 2000, minimum: 1 }),
              failOpen: Type.Boolean({ default: false }),
              headers: Type.Record(Type.String(), Type.String(), { default: {} }),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    evaluation: Type.Object(
      {
        /**
         * Optional CLIP score: a user-supplied ONNX model ({modelPath, tokenizerPath?}) or an
         * external service answering POST {url}/evaluate ({url, timeoutMs?}).
         */
        clip: Type.Optional(
          Type.Union([
            Type.Object({ modelPath: Type.String({ minLength: 1 }), tokenizerPath: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false }),
            Type.Object({ url: Type.String({ format: 'uri' }), timeoutMs: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false }),
          ]),
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Longest time POST /v1/images/generations waits for its job before answering 504. */
    syncTimeoutSeconds: Type.Number({ default: 300, minimum: 1 }),
    /**
     * Output safety scan (README "Output safety"): every image output, and a video's thumbnail, is
     * classified by nsfwjs's MobileNetV2 in-process, or by the external checker at `url`.
     */
    safety: Type.Object(
      {
        /** off: no scan; flag: store and show the scores; blur: delivered copies blurred when flagged; block: a flagged run fails (`output_refused`). */
        policy: safetyPolicySchema({ default: 'flag' }),
        threshold: safetyThresholdSchema({ default: 0.7 }),
        /** An external checker (POST {image_b64} → {flagged, scores}) instead of the built-in model; fails closed. */
        url: Type.Optional(Type.String({ format: 'uri' })),
        timeoutMs: Type.Optional(Type.Integer({ minimum: 1 })),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Run webhooks (src/webhooks, README "Webhooks"). */
    webhooks: Type.Object(
      {
        /** http, private and loopback webhook targets too: local development and tests only (SSRF). */
        allowPrivate: Type.Boolean({ default: false }),
        /** Time limit of one delivery attempt (connect, send, the receiver's answer). */
        timeoutSeconds: Type.Number({ default: 10, minimum: 1, maximum: 300 }),
        /** A delivery is retried with backoff (`retryDelaySeconds` doubling to 1 h) for this long, then given up. */
        retryHours: Type.Number({ default: 24, minimum: 1, maximum: 720 }),
        /** Delay after a delivery's first failed attempt (±20 % jitter); it doubles after each further one, up to 1 h. */
        retryDelaySeconds: Type.Number({ default: 5, minimum: 1, maximum: 3600 }),
        /**
         * How often an idle node looks for due deliveries nobody woke it for: a retry scheduled
         * by a node that has stopped since (another node, or this one before a restart), a claim
         * that expired. One small query per node per interval, whatever the job rate.
         */
        pollSeconds: Type.Number({ default: 15, minimum: 1, maximum: 3600 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * Browsers: the origins (`scheme://host[:port]`) whose pages may call the API, or `*` for
     * any (then without credentials). Empty: no CORS headers at all (src/api/plugins/cors.ts).
     */
    cors: Type.Object(
      {
        origins: Type.Array(Type.String({ minLength: 1, maxLength: 2048 }), { default: [] }),
        /** How long a browser may reuse a preflight answer. */
        maxAgeSeconds: Type.Integer({ default: 600, minimum: 0, maximum: 86_400 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * OpenAI model names (or any) accepted by the /v1 API for a configured model, e.g.
     * `{"dall-e-3": "sdxl"}`, so unchanged OpenAI code runs. Each must name a model.
     */
    aliases: Type.Record(Type.String({ minLength: 1, maxLength: 200 }), Type.String({ minLength: 1 }), { default: {} }),
    backends: Type.Record(Type.String(), BackendSchema, { default: { builtin: { type: 'builtin' } } }),
    models: Type.Array(ModelSchema, {
      minItems: 1,
      default: [
        {
          name: 'preview',
          backend: 'builtin',
          label: 'Preview renderer (built-in, no model weights; outputs marked PREVIEW)',
          modes: ['t2i', 'i2i'],
          baseResolution: 1024,
          defaultSteps: 30,
          defaultCfgScale: 7.5,
          defaultSampler: 'Euler',
          default: true,
        },
        ...(['t2v', 'i2v', 'ti2v'] as const).map((mode) => ({
          name: `preview-${mode}`,
          backend: 'builtin',
          label: `Preview renderer, ${mode} video (built-in, no model weights; marked PREVIEW)`,
          modes: [mode],
          baseResolution: 640,
          defaultSteps: 20,
          defaultCfgScale: 5,
          defaultSampler: 'Euler',
          defaultAspectRatio: '16:9',
          defaultFps: 16,
          defaultFrames: 48,
          maxFrames: 241,
        })),
      ],
    }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
