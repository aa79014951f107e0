import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { HistoryRow } from '../../db/repos/assets-repo.js';
import { AtelierError } from '../../errors/atelier-error.js';
import type { JobSpec } from '../../jobs/job-spec.js';
import { deleteAssetCompletely } from '../../service/delete-asset.js';
import type { AppDeps } from '../app-deps.js';
import { currentUser } from '../plugins/auth.js';
import { requestOrigin } from '../plugins/origin.js';
import { errorResponses, IdParams } from '../schemas/common.js';
import { EvaluationsView } from '../schemas/job-view.js';
import { evaluationsByAsset } from '../views/job-view.js';
import { createMediaLinks, type MediaLinks } from '../views/media-links.js';
import { sendStored } from '../send-stored.js';

const MediaType = Type.Union([Type.Literal('image'), Type.Literal('video')], { description: 'A video\'s thumbnailUrl is its poster frame' });

const HistoryItem = Type.Object({
  id: Type.String(),
  runId: Type.String(),
  type: MediaType,
  prompt: Type.String(),
  imageUrl: Type.String(),
  thumbnailUrl: Type.Union([Type.String(), Type.Null()]),
  modelUsed: Type.String(),
  width: Type.Integer(),
  height: Type.Integer(),
  collection: Type.Union([Type.Literal('workspace'), Type.Literal('library')]),
  libraryId: Type.Union([Type.String(), Type.Null()], { description: 'The library item holding this one: its own id in the library, the saved copy of a workspace item, or null when not saved' }),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
});

const ImageDetail = Type.Object({
  id: Type.String(),
  runId: Type.String(),
  type: MediaType,
  prompt: Type.String(),
  negativePrompt: Type.Union([Type.String(), Type.Null()]),
  imageUrl: Type.String(),
  thumbnailUrl: Type.Union([Type.String(), Type.Null()]),
  width: Type.Integer(),
  height: Type.Integer(),
  modelUsed: Type.String(),
  parameters: Type.Object({ steps: Type.Integer(), cfgScale: Type.Number(), sampler: Type.String(), seed: Type.Integer() }),
  generationTime: Type.Union([Type.Number(), Type.Null()]),
  metadata: Type.Object({}, { additionalProperties: true }),
  evaluations: EvaluationsView,
  collection: Type.Union([Type.Literal('workspace'), Type.Literal('library')]),
  libraryId: Type.Union([Type.String(), Type.Null()], { description: 'The library item holding this one: its own id in the library, the saved copy of a workspace item, or null when not saved' }),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
});

const HistoryQuery = Type.Object(
  {
    // Bounded so (page - 1) × perPage stays an integer the databases take as an OFFSET (1e20 was a 500).
    page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
    perPage: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    collection: Type.Optional(Type.Union([Type.Literal('workspace'), Type.Literal('library')], { description: 'Only workspace items, or only library items; both when omitted' })),
    type: Type.Union([Type.Literal('image'), Type.Literal('video'), Type.Literal('all')], { default: 'image', description: 'Images (default), videos, or both interleaved newest first' }),
    q: Type.Optional(Type.String({ maxLength: 200, description: 'Only items whose prompt contains this text, ignoring case (empty: all)' })),
  },
  { additionalProperties: false },
);

/** Seed 003's image history, detail and delete (camelCase, newest first). */
export function imageRoutes(deps: AppDeps): FastifyPluginAsync {
  return async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    // Library links live longer than workspace ones (SPEC §4: 24–72 h against 15–60 min).
    const linksFor = (request: Parameters<typeof requestOrigin>[0], collection: 'workspace' | 'library' = 'workspace') =>
      createMediaLinks(
        deps.storage,
        requestOrigin(request, deps.config.publicUrl),
        collection === 'library' ? deps.config.media.libraryUrlTtlSeconds : deps.config.media.workspaceUrlTtlSeconds,
      );

    app.get(
      '/api/images/history',
      {
        schema: {
          tags: ['images'],
          summary: "The caller's generated images, newest first",
          security: [{ bearerAuth: [] }],
          querystring: HistoryQuery,
          response: {
            200: Type.Object({ images: Type.Array(HistoryItem), total: Type.Integer(), page: Type.Integer(), perPage: Type.Integer() }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const user = currentUser(request);
        const { page, perPage, collection, type, q } = request.query;
        const prompt = q?.trim();
        const { rows, total } = await deps.assets.historyPage(user.id, type === 'all' ? undefined : type, page, perPage, {
          ...(collection ? { collection } : {}),
          ...(prompt ? { prompt } : {}),
        });
        const links = linksFor(request);
        // Which workspace items were saved already, in one query for the page: the grid offers
        // "Save to library" only for the others.
        const workspaceJobs = [...new Set(rows.filter((row) => row.collection === 'workspace').map((row) => row.job_id))];
        const copies = new Map(
          (await deps.assets.listForJobs(workspaceJobs)).filter((copy) => copy.collection === 'library').map((copy) => [`${copy.job_id}/${copy.asset_index}`, copy.id]),
        );
        const images = await Promise.all(
          rows.map(async (row) => {
            const meta = JSON.parse(row.metadata) as { width: number; height: number };
            const { url, thumbnailUrl } = await links.linkAsset(row);
            return {
              id: row.id,
              runId: row.job_id,
              type: row.type,
              prompt: row.prompt,
              imageUrl: url,
              thumbnailUrl,
              modelUsed: row.model,
              width: meta.width,
              height: meta.height,
              collection: row.collection,
              libraryId: row.collection === 'library' ? row.id : (copies.get(`${row.job_id}/${row.asset_index}`) ?? null),
              expiresAt: iso(row.expires_at),
              createdAt: new Date(Number(row.created_at)).toISOString(),
            };
          }),
        );
        return { images, total, page, perPage };
      },
    );

    app.get(
      '/api/images/:id',
      {
        schema: { tags: ['images'], summary: 'One image with every parameter', security: [{ bearerAuth: [] }], params: IdParams, response: { 200: ImageDetail, ...errorResponses } },
      },
      async (request) => {
        const row = await findImage(request.params.id, currentUser(request).id);
        const scores = evaluationsByAsset(await deps.evaluations.listByAssetIds([row.id])).get(row.id) ?? {};
        // So a client can show "Saved to library" for a workspace item saved earlier.
        const libraryId = row.collection === 'library' ? row.id : ((await deps.assets.findCopy(row.job_id, 'library', row.asset_index))?.id ?? null);
        return { ...(await imageDetail(row, await deps.jobService.getForUser(currentUser(request), row.job_id), linksFor(request, row.collection))), libraryId, evaluations: scores };
      },
    );

    app.get(
      '/api/images/:id/file',
      {
        schema: { tags: ['images'], summary: 'The original file, streamed to its owner', security: [{ bearerAuth: [] }], params: IdParams, response: { 200: Type.Unknown({ description: 'The PNG bytes' }), ...errorResponses } },
      },
      async (request, reply) => {
        const row = await findImage(request.params.id, currentUser(request).id);
        const info = await deps.storage.stat(row.storage_key);
        if (!info) throw new AtelierError('not_found', 'The file no longer exists');
        return sendStored(request, reply.type(row.content_type).header('cache-control', 'private, max-age=3600'), deps.storage, info);
      },
    );

    app.delete(
      '/api/images/:id',
      {
        schema: { tags: ['images'], summary: 'Delete an image and its files', security: [{ bearerAuth: [] }], params: IdParams, response: { 204: Type.Null(), ...errorResponses } },
      },
      async (request, reply) => {
        const row = await findImage(request.params.id, currentUser(request).id);
        // Marked (hidden) first, files next, row last: a crash in between leaves a hidden row
        // that the next retention sweep finishes, never a visible row pointing at nothing.
        await deleteAssetCompletely(deps.assets, deps.storage, row);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/api/images/:id/save',
      {
        schema: {
          tags: ['images'],
          summary: 'Save a workspace image to the library (kept until deleted)',
          description: 'Copies the original and thumbnail to user-library keys and records the library item; saving twice returns the same item.',
          security: [{ bearerAuth: [] }],
          params: IdParams,
          response: { 201: ImageDetail, ...errorResponses },
        },
      },
      async (request, reply) => {
        const user = currentUser(request);
        await findImage(request.params.id, user.id);
        const saved = await deps.library.save(user.id, request.params.id);
        return reply.code(201).send({ ...(await imageDetail(saved, await deps.jobService.getForUser(user, saved.job_id), linksFor(request, saved.collection))), libraryId: saved.id, evaluations: {} });
      },
    );

    // Videos live here too (history lists them with type=all): detail, file, save and delete
    // work the same for both media types.
    async function findImage(id: string, userId: string): Promise<HistoryRow> {
      const row = await deps.assets.findForUser(id, userId);
      if (!row) throw new AtelierError('not_found', `No image or video with id '${id}'`, { field: 'id' });
      return row;
    }
  };
}

async function imageDetail(row: HistoryRow, job: { spec: string; started_at: number | null; finished_at: number | null }, links: MediaLinks) {
  const spec = JSON.parse(job.spec) as JobSpec;
  const metadata = JSON.parse(row.metadata) as Record<string, unknown> & { width: number; height: number; seed: number };
  const { url, thumbnailUrl } = await links.linkAsset(row);
  return {
    id: row.id,
    runId: row.job_id,
    type: row.type,
    prompt: row.prompt,
    negativePrompt: spec.negativePrompt ?? null,
    imageUrl: url,
    thumbnailUrl,
    width: metadata.width,
    height: metadata.height,
    modelUsed: row.model,
    parameters: { steps: spec.steps, cfgScale: spec.cfgScale, sampler: spec.sampler, seed: metadata.seed },
    generationTime: job.started_at !== null && job.finished_at !== null ? (Number(job.finished_at) - Number(job.started_at)) / 1000 : null,
    metadata,
    collection: row.collection,
    expiresAt: iso(row.expires_at),
    createdAt: new Date(Number(row.created_at)).toISOString(),
  };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());
