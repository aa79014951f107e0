import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppDeps } from '../app-deps.js';
import { errorResponses } from '../schemas/common.js';

const ModelView = Type.Object({
  name: Type.String(),
  label: Type.String(),
  default: Type.Boolean(),
  preview: Type.Boolean({ description: 'Runs on the built-in preview renderer: no model weights, every output marked PREVIEW' }),
  modes: Type.Array(Type.String()),
  backend: Type.Object({ kind: Type.String(), label: Type.String() }),
  defaults: Type.Object({
    width: Type.Integer(),
    height: Type.Integer(),
    steps: Type.Integer(),
    cfgScale: Type.Number(),
    sampler: Type.String(),
    aspectRatio: Type.Optional(Type.String({ description: 'The aspect ratio a request without size or input image renders at (width/height are the base resolution)' })),
  }),
  limits: Type.Object({ maxWidth: Type.Integer(), maxHeight: Type.Integer(), maxSteps: Type.Integer(), maxImages: Type.Integer() }),
  samplers: Type.Array(Type.String()),
  capabilities: Type.Object(
    {
      controlnet: Type.Array(Type.String(), { description: 'ControlNet types the model applies; empty: no ControlNet' }),
      guidanceImages: Type.Integer({ description: 'Most guidance images per job; 0: none' }),
      hiresFix: Type.Boolean({ description: 'Runs hires_fix (text-to-image); false: a request asking for it is a 422 parameter_unsupported' }),
    },
    { description: 'Guided generation (seed 002): what a request may put in controlnet and guidance_images' },
  ),
  loras: Type.Array(Type.String(), { description: 'LoRA names a request may put in loras; empty: none' }),
});

/** The model registry as clients see it: what each model can do and its defaults. */
export function modelRoutes(deps: AppDeps): FastifyPluginAsync {
  return async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/api/models',
      { schema: { tags: ['models'], summary: 'Models this server offers', security: [{ bearerAuth: [] }], response: { 200: Type.Object({ models: Type.Array(ModelView) }), ...errorResponses } } },
      async () => ({
        models: deps.registry.list().map((model) => {
          const backend = deps.backends.get(model.backend)!;
          const caps = backend.capabilities;
          return {
            name: model.name,
            label: model.label,
            default: model === deps.registry.defaultModel,
            preview: backend.kind === 'builtin',
            modes: [...model.modes],
            backend: { kind: backend.kind, label: backend.label },
            defaults: {
              width: model.baseResolution,
              height: model.baseResolution,
              steps: model.defaultSteps,
              cfgScale: model.defaultCfgScale,
              sampler: model.defaultSampler,
              ...(model.defaultAspectRatio ? { aspectRatio: model.defaultAspectRatio } : {}),
            },
            limits: { maxWidth: caps.maxWidth, maxHeight: caps.maxHeight, maxSteps: caps.maxSteps, maxImages: caps.maxBatch },
            samplers: [...caps.samplers],
            capabilities: { controlnet: [...(caps.controlnet ?? [])], guidanceImages: caps.guidanceImages ?? 0, hiresFix: caps.hiresFix },
            loras: [...(model.loras ?? [])],
          };
        }),
      }),
    );
  };
}
