import { Type } from 'typebox';
import { ComfyUISamplersSchema, ComfyUIWorkflowFilesSchema } from '../backends/comfyui/comfyui-config.js';
import { CONTROLNET_TYPES } from '../jobs/conditioning.js';

/**
 * Defaults of the routing fields. Applied in code: a backend is one branch of a union, and
 * JSON-schema defaults inside a union are not applied by the validator.
 */
export const ROUTING_DEFAULTS = {
  perInstanceConcurrency: 1,
  healthIntervalSeconds: 15,
  failureThreshold: 3,
  cooldownSeconds: 30,
  warmupSeconds: 300,
  generationSeconds: 900,
  connectSeconds: 10,
} as const;

/** Routing and time limits shared by every network backend (several instances of one kind). */
const routingFields = {
  /** One URL per instance; jobs go to the least busy healthy one, with failover. */
  urls: Type.Array(Type.String({ format: 'uri' }), { minItems: 1 }),
  label: Type.Optional(Type.String({ minLength: 1 })),
  /** Jobs one instance runs at once (a GPU: 1). */
  perInstanceConcurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, default: ROUTING_DEFAULTS.perInstanceConcurrency })),
  healthIntervalSeconds: Type.Optional(Type.Number({ minimum: 1, default: ROUTING_DEFAULTS.healthIntervalSeconds })),
  /** Consecutive failures that take an instance out, and for how long. */
  failureThreshold: Type.Optional(Type.Integer({ minimum: 1, default: ROUTING_DEFAULTS.failureThreshold })),
  cooldownSeconds: Type.Optional(Type.Number({ minimum: 1, default: ROUTING_DEFAULTS.cooldownSeconds })),
  /** Until the first progress (model loading; seed 001: 300 s), and for a whole job. */
  warmupSeconds: Type.Optional(Type.Number({ minimum: 1, default: ROUTING_DEFAULTS.warmupSeconds })),
  generationSeconds: Type.Optional(Type.Number({ minimum: 1, default: ROUTING_DEFAULTS.generationSeconds })),
  connectSeconds: Type.Optional(Type.Number({ minimum: 0.1, default: ROUTING_DEFAULTS.connectSeconds })),
  maxWidth: Type.Optional(Type.Integer({ minimum: 64, maximum: 16384 })),
  maxHeight: Type.Optional(Type.Integer({ minimum: 64, maximum: 16384 })),
  maxSteps: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  maxBatch: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
};

/** An HTTP header name (RFC 9110 token). */
const HTTP_TOKEN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

export const ComfyUIBackendSchema = Type.Object(
  {
    type: Type.Literal('comfyui'),
    ...routingFields,
    /** Bound into each workflow's checkpoint input (e.g. sd_xl_base_1.0.safetensors). */
    checkpoint: Type.Optional(Type.String({ minLength: 1 })),
    /** Per mode: an API-format graph file and its bindings file (paths relative to the configuration file). */
    workflows: Type.Optional(ComfyUIWorkflowFilesSchema),
    /** Atelier sampler name → ComfyUI sampler_name + scheduler. */
    samplers: Type.Optional(ComfyUISamplersSchema),
    /** Sent with every request and the WebSocket handshake, e.g. `{"Authorization": "Bearer …"}` for ComfyUI behind an authenticating proxy. */
    headers: Type.Optional(Type.Record(Type.String({ pattern: HTTP_TOKEN }), Type.String({ maxLength: 8192 }), { additionalProperties: false })),
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
    /** ControlNet model per control type (the ControlNet extension); default ControlNet 1.1 SD 1.5; {} for none. */
    controlnetModels: Type.Optional(
      Type.Object(Object.fromEntries(CONTROLNET_TYPES.map((t) => [t, Type.Optional(Type.String({ minLength: 1 }))])), { additionalProperties: false }),
    ),
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
