import type { FastifyRequest } from 'fastify';
import { buffer, text } from 'node:stream/consumers';
import sharp from 'sharp';
import { Type } from 'typebox';
import type { JobRow } from '../../../db/schema.js';
import { AtelierError } from '../../../errors/atelier-error.js';
import { MAX_SEED } from '../../../jobs/job-spec.js';
import type { AppDeps } from '../../app-deps.js';
import { requestOrigin } from '../../plugins/origin.js';
import { createMediaLinks, deliveredKey } from '../../views/media-links.js';

/** OpenAI's `size`: 'WIDTHxHEIGHT' or 'auto' (the model's default, or the input image's shape). */
export const SizeSchema = Type.String({ pattern: '^(auto|\\d{2,4}x\\d{2,4})$', description: "'WIDTHxHEIGHT' or 'auto'" });

/** Atelier's generation settings accepted beside OpenAI's fields (seed 003), on generations and edits alike. */
export const atelierImageFields = {
    negative_prompt: Type.Optional(Type.String({ maxLength: 10_000 })),
    steps: Type.Optional(Type.Integer({ minimum: 1, maximum: 150 })),
    cfg_scale: Type.Optional(Type.Number({ minimum: 0, maximum: 30 })),
    sampler: Type.Optional(Type.String({ minLength: 1 })),
    seed: Type.Optional(Type.Integer({ minimum: -1, maximum: MAX_SEED })),
};

export const ResponseFormatSchema = Type.Union([Type.Literal('url'), Type.Literal('b64_json')]);

/** OpenAI's images response, with the seed of each image as an extra. */
export const ImagesResponse = Type.Object({
  created: Type.Integer(),
  data: Type.Array(
    Type.Object({ url: Type.Optional(Type.String()), b64_json: Type.Optional(Type.String()), revised_prompt: Type.String(), seed: Type.Integer() }),
  ),
});

/** `{width, height}` of a size, or nothing for 'auto' and absent. */
export function parseSize(size: string | undefined): { width?: number; height?: number } {
  if (size === undefined || size === 'auto') return {};
  const [width, height] = size.split('x').map(Number) as [number, number];
  return { width, height };
}

/**
 * Waits for a run submitted on behalf of an OpenAI request and answers with its images:
 * signed URLs (the default) or base64 PNGs. A run that fails or is canceled is an error;
 * one that outlasts `syncTimeoutSeconds` a 504 naming its status URL.
 */
export async function answerWithImages(deps: AppDeps, request: FastifyRequest, job: JobRow, responseFormat: 'url' | 'b64_json' | undefined) {
  const finished = await deps.jobService.waitForTerminal(job, deps.config.syncTimeoutSeconds * 1000);
  if (finished.status !== 'succeeded') {
    // A safety refusal keeps its own code (422), as OpenAI answers a content-policy refusal.
    const code = finished.status === 'canceled' ? 'job_canceled' : finished.error_code === 'output_refused' ? 'output_refused' : 'job_failed';
    throw new AtelierError(code, finished.error_message ?? `The run ${finished.status}`);
  }
  const assets = await deps.assets.listForJob(job.id);
  const links = createMediaLinks(deps.storage, requestOrigin(request, deps.config.publicUrl), deps.config.media.workspaceUrlTtlSeconds);
  const data = await Promise.all(
    assets.map(async (asset) => {
      const seed = (JSON.parse(asset.metadata) as { seed: number }).seed;
      if (responseFormat === 'b64_json') {
        const key = deliveredKey(asset);
        const stored = await deps.storage.get(key);
        // OpenAI's b64_json is a PNG (clients save it as .png). The original is one; an output
        // the safety scan blurred is delivered from its JPEG/WebP copy, so that copy is re-encoded.
        const bytes = key === asset.storage_key ? await text(stored.setEncoding('base64')) : (await sharp(await buffer(stored)).png().toBuffer()).toString('base64');
        return { b64_json: bytes, revised_prompt: job.prompt, seed };
      }
      return { url: await links.link(deliveredKey(asset)), revised_prompt: job.prompt, seed };
    }),
  );
  return { created: Math.floor(Number(finished.created_at) / 1000), data };
}
