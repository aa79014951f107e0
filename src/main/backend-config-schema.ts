import { Type } from 'typebox';

/** Routing and time limits shared by every network backend (several instances of one kind). */
const routingFields = {
  /** One URL per instance; jobs go to the least busy healthy one, with failover. */
  urls: Type.Array(Type.String({ format: 'uri' }), { minItems: 1 }),
  label: Type.Optional(Type.String({ minLength: 1 })),
  /** Jobs one instance runs at once (a GPU: 1). */
  perInstanceConcurrency: Type.Integer({ default: 1, minimum: 1, maximum: 64 }),
  healthIntervalSeconds: Type.Number({ default: 15, minimum: 1 }),
  /** Consecutive failures that take an instance out, and for how long. */
  failureThreshold: Type.Integer({ default: 3, minimum: 1 }),
  cooldownSeconds: Type.Number({ default: 30, minimum: 1 }),
  /** Until the first progress (model loading; seed 001: 300 s), and for a whole job. */
  warmupSeconds: Type.Number({ default: 300, minimum: 1 }),
  generationSeconds: Type.Number({ default: 900, minimum: 1 }),
  connectSeconds: Type.Number({ default: 10, minimum: 0.1 }),
  maxWidth: Type.Optional(Type.Integer({ minimum: 64, maximum: 16384 })),
  maxHeight: Type.Optional(Type.Integer({ minimum: 64, maximum: 16384 })),
  maxSteps: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  maxBatch: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
};

export const ComfyUIBackendSchema = Type.Object(
  {
    type: Type.Literal('comfyui'),
    ...routingFields,
    /** Bound into each workflow's checkpoint input (e.g. sd_xl_base_1.0.safetensors). */
    checkpoint: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

export const A1111BackendSchema = Type.Object(
  {
    type: Type.Literal('a1111'),
    ...routingFields,
    /** The server's --api-auth user:pass. */
    username: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(Type.String({ minLength: 1 })),
    checkpoint: Type.Optional(Type.String({ minLength: 1 })),
    samplers: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
  },
  { additionalProperties: false },
);

export const OpenAIBackendSchema = Type.Object(
  {
    type: Type.Literal('openai'),
    ...routingFields,
    /** The upstream model, e.g. gpt-image-1 or dall-e-3. */
    model: Type.String({ minLength: 1 }),
    /** Better from the environment: OPENAI_API_KEY is used when this is unset. */
    apiKey: Type.Optional(Type.String({ minLength: 1 })),
    sizes: Type.Optional(Type.Array(Type.String({ pattern: '^\\d+x\\d+$' }), { minItems: 1 })),
  },
  { additionalProperties: false },
);
