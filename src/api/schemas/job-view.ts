import { Type } from 'typebox';

/** Scores of one asset (SPEC §7); absent ones were not computed (yet, or for this mode). */
export const EvaluationsView = Type.Object({
  ssim: Type.Optional(Type.Number({ description: 'i2i: against the center-cropped reference' })),
  psnr: Type.Optional(Type.Number({ description: 'i2i: dB, 100 when identical' })),
  phash: Type.Optional(Type.String({ description: '64-bit perceptual hash, hex' })),
  batchDiversity: Type.Optional(Type.Number({ description: 'Mean pairwise pHash distance of the batch / 64' })),
  clipScore: Type.Optional(Type.Number()),
});

export const AssetView = Type.Object(
  {
    id: Type.String(),
    type: Type.Union([Type.Literal('image'), Type.Literal('video')]),
    index: Type.Integer(),
    url: Type.String({ description: 'Signed, expiring URL of the original; of its blurred copy (largest variant, else thumbnail) when the safety scan blurred it (metadata.safety.blurred)' }),
    thumbnailUrl: Type.Union([Type.String(), Type.Null()]),
    contentType: Type.String({ description: 'The type of what url serves: image/png or video/mp4 for an original, for a blurred output the type of its blurred copy (a variant, or a video\'s thumbnail)' }),
    variants: Type.Array(
      Type.Object({
        name: Type.String({ description: "normal, high, or one of the preset's extra variants (e.g. square)" }),
        preset: Type.String(),
        format: Type.String({ description: 'jpeg, webp or avif' }),
        width: Type.Integer(),
        height: Type.Integer(),
        bytes: Type.Integer(),
        url: Type.String(),
      }),
      { description: 'Delivery variants of the preset (SPEC §4): normal, high, then its extra variants, each with a signed URL' },
    ),
    metadata: Type.Object({}, { additionalProperties: true, description: 'SPEC §4 metadata (snake_case keys)' }),
    evaluations: EvaluationsView,
    urlExpiresAt: Type.String(),
    expiresAt: Type.Union([Type.String(), Type.Null()], {
      description: 'When this workspace item is deleted (WORKSPACE_TTL_HOURS after it was made, 24 h by default); null once saved to the library, which never expires',
    }),
    createdAt: Type.String(),
  },
  { additionalProperties: false },
);

export const CostView = Type.Object(
  {
    amount: Type.Number(),
    currency: Type.String(),
    breakdown: Type.Record(Type.String(), Type.Number()),
  },
  { description: 'Estimated cost (src/jobs/cost.ts, the same function the web UI uses)' },
);

/** An input image of a run: where it came from and its shape (never its storage key). */
export const InputImageView = Type.Object({
  uploadId: Type.Optional(Type.String()),
  assetId: Type.Optional(Type.String()),
  format: Type.String(),
  width: Type.Integer(),
  height: Type.Integer(),
  sha256: Type.String(),
});

/** A ControlNet unit of a run: its type, weight, schedule window and control image. */
export const ControlNetUnitView = Type.Object({
  type: Type.String(),
  weight: Type.Number(),
  start: Type.Number(),
  end: Type.Number(),
  image: InputImageView,
});

/** What status, submit and cancel return: everything a client needs about one run. */
export const JobView = Type.Object(
  {
    runId: Type.String(),
    status: Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('canceled')]),
    mode: Type.String(),
    model: Type.String(),
    backend: Type.Object({ kind: Type.String(), label: Type.String() }),
    parameters: Type.Object({
      prompt: Type.String(),
      negativePrompt: Type.Union([Type.String(), Type.Null()]),
      width: Type.Integer(),
      height: Type.Integer(),
      steps: Type.Integer(),
      cfgScale: Type.Number(),
      sampler: Type.String(),
      seed: Type.Integer(),
      numImages: Type.Integer(),
      hiresFix: Type.Boolean(),
      priority: Type.Integer(),
      denoiseStrength: Type.Optional(Type.Number()),
      exactCopy: Type.Optional(Type.Boolean()),
      referenceImage: Type.Optional(InputImageView),
      startImage: Type.Optional(InputImageView),
      endImage: Type.Optional(InputImageView),
      numFrames: Type.Optional(Type.Integer()),
      fps: Type.Optional(Type.Integer()),
      guidanceImages: Type.Optional(Type.Array(InputImageView)),
      controlnet: Type.Optional(Type.Array(ControlNetUnitView)),
      loras: Type.Optional(Type.Array(Type.Object({ name: Type.String(), weight: Type.Number() }), { description: "The request's LoRAs; the model's own are applied first (assets' metadata lists all)" })),
    }),
    seed: Type.Integer(),
    progress: Type.Object({ fraction: Type.Number(), step: Type.Integer(), totalSteps: Type.Integer() }),
    attempts: Type.Integer(),
    maxAttempts: Type.Integer(),
    error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
    warnings: Type.Array(Type.String()),
    cached: Type.Boolean({ description: 'Served from the prompt cache: a copy of an earlier run, not re-rendered' }),
    cachedFrom: Type.Union([Type.String(), Type.Null()]),
    cost: Type.Union([CostView, Type.Null()]),
    assets: Type.Array(AssetView),
    statusUrl: Type.String(),
    streamUrl: Type.String(),
    createdAt: Type.String(),
    startedAt: Type.Union([Type.String(), Type.Null()]),
    finishedAt: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);
