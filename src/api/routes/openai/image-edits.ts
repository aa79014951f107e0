import type { FastifyPluginAsync } from 'fastify';
import multipart from '@fastify/multipart';
import { Type, type Static } from 'typebox';
import { AtelierError } from '../../../errors/atelier-error.js';
import { createAjv } from '../../../validation/create-ajv.js';
import { ajvErrorsToAtelierError } from '../../../validation/format-ajv-error.js';
import type { AppDeps } from '../../app-deps.js';
import { currentUser } from '../../plugins/auth.js';
import { nulCharacterError } from '../../plugins/nul-characters.js';
import { findNulCharacter } from '../../../validation/find-nul-character.js';
import { editFormLimits, readEditForm } from './edit-form.js';
import { answerWithImages, atelierImageFields, ImagesResponse, parseSize, ResponseFormatSchema, SizeSchema } from './image-results.js';
import { modelName } from './model-name.js';
import { openaiErrorResponses } from './openai-error.js';

/** The text fields of an edits form (they arrive as text, so numbers are coerced). */
const EditFields = Type.Object(
  {
    prompt: Type.String({ minLength: 1, maxLength: 10_000 }),
    model: Type.Optional(Type.String({ minLength: 1 })),
    n: Type.Optional(Type.Integer({ minimum: 1, maximum: 8 })),
    size: Type.Optional(SizeSchema),
    response_format: Type.Optional(ResponseFormatSchema),
    output_format: Type.Optional(Type.Literal('png')),
    stream: Type.Optional(Type.Literal(false, { description: 'Streaming partial images is not supported' })),
    // Accepted for compatibility; they do not change what Atelier renders.
    quality: Type.Optional(Type.String()),
    user: Type.Optional(Type.String()),
    background: Type.Optional(Type.String()),
    input_fidelity: Type.Optional(Type.String()),
    // Atelier's extras, and image-to-image's own.
    ...atelierImageFields,
    denoise_strength: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: '0 keeps the image, 1 ignores it; default 0.75' })),
  },
  { additionalProperties: false },
);

const validateFields = createAjv('coercing').compile<Static<typeof EditFields>>(EditFields);

/** Room for the multipart framing and text fields around the two files. */
const FORM_OVERHEAD_BYTES = 256 * 1024;

/**
 * `POST /v1/images/edits` (OpenAI Images API), as image-to-image: the `image` becomes an
 * upload (checked like `POST /api/uploads`: content, size, pixel limit) and the reference of
 * an i2i run of the model (an alias or a model with the `i2i` mode), and the answer waits for
 * it like `/v1/images/generations`. Without `size` the output takes the image's shape. A
 * `mask` (inpainting) is refused with a 400 `mask_unsupported`: no backend here inpaints.
 */
export function imageEditRoutes(deps: AppDeps): FastifyPluginAsync {
  const maxBytes = deps.config.uploads.maxBytes;
  return async (app) => {
    await app.register(multipart, { limits: editFormLimits(maxBytes) });
    app.post(
      '/images/edits',
      {
        // Read by the multipart parser, not Fastify's: this bounds the declared length (and
        // `Expect: 100-continue`); each file is bounded by the upload limit as it streams.
        bodyLimit: 2 * maxBytes + FORM_OVERHEAD_BYTES,
        schema: {
          tags: ['openai'],
          summary: 'OpenAI Images API: edit an image (image-to-image) and wait for the result',
          description:
            'multipart/form-data: `image` (PNG, JPEG or WEBP), `prompt`, and optionally `model`, `n`, `size`, `response_format` (`url` or `b64_json`), `negative_prompt`, `steps`, `cfg_scale`, `sampler`, `seed`, `denoise_strength`. A `mask` is refused (400 `mask_unsupported`).',
          consumes: ['multipart/form-data'],
          security: [{ bearerAuth: [] }],
          response: { 200: ImagesResponse, ...openaiErrorResponses },
        },
      },
      async (request) => {
        const user = currentUser(request);
        const form = await readEditForm(request, maxBytes);
        if (form.mask) {
          throw new AtelierError('mask_unsupported', 'Masks (inpainting) are not supported: no backend of this server can inpaint. Send the image without a mask to edit all of it.', {
            field: 'mask',
          });
        }
        const fields = { ...form.fields };
        const nul = findNulCharacter(fields);
        if (nul) throw nulCharacterError(nul);
        if (!validateFields(fields)) throw ajvErrorsToAtelierError(validateFields.errors!, fields);
        if (!form.image) throw new AtelierError('invalid_parameter', 'Expected a value for image but received nothing', { field: 'image' });
        // Checked before the image is decoded and stored (the job service checks again).
        const model = modelName(deps, fields.model);
        const target = deps.registry.resolve(model);
        if (!target.modes.includes('i2i')) {
          throw new AtelierError('capability_unsupported', `Model '${target.name}' does not support image-to-image (it supports ${target.modes.join(', ')})`, { field: 'model' });
        }
        const upload = await deps.uploads.receiveDirect(user, form.image.filename || 'image', form.image.bytes);
        const { job } = await deps.jobService.submit(user, 'image-to-image', {
          prompt: fields.prompt,
          negative_prompt: fields.negative_prompt,
          model,
          ...parseSize(fields.size),
          steps: fields.steps,
          cfg_scale: fields.cfg_scale,
          sampler: fields.sampler,
          seed: fields.seed,
          num_images: fields.n,
          denoise_strength: fields.denoise_strength,
          reference_image: { upload_id: upload.id },
        });
        return answerWithImages(deps, request, job, fields.response_format);
      },
    );
  };
}
