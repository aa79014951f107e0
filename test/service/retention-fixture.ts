import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createDatabase, type DatabaseHandle } from '../../src/db/create-db.js';
import { createAssetsRepo } from '../../src/db/repos/assets-repo.js';
import { createJobsRepo } from '../../src/db/repos/jobs-repo.js';
import { createUploadsRepo } from '../../src/db/repos/uploads-repo.js';
import { createUsersRepo } from '../../src/db/repos/users-repo.js';
import type { AssetRow, JobRow } from '../../src/db/schema.js';
import type { InputImage, JobSpec } from '../../src/jobs/job-spec.js';
import { createMetrics } from '../../src/observability/metrics.js';
import type { RetentionDeps } from '../../src/service/retention.js';
import { createDiskStorage } from '../../src/storage/disk/disk-storage.js';
import { assetKeys, storageKeys } from '../../src/storage/keys.js';
import type { Storage } from '../../src/storage/storage.js';
import { createUrlSigner } from '../../src/storage/url-signer.js';
import { makeTempDir } from '../helpers/temp-dir.js';

export const HOUR = 3600_000;
export const DAY = 24 * HOUR;
/** The tests' clock: every age is measured from here, never from Date.now(). */
export const NOW = Date.UTC(2026, 0, 31, 12);

const BYTES = Buffer.from('not really an image, retention never reads it');

/**
 * A real SQLite database and disk storage in a temp dir, with builders for jobs, assets,
 * uploads and job inputs at chosen ages. Every builder writes the files its row names.
 */
export async function openFixture() {
  const tmp = await makeTempDir('atelier-retention-');
  const database: DatabaseHandle = await createDatabase(`sqlite:${join(tmp.dir, 'atelier.db')}`);
  const { db } = database;
  const mediaRoot = join(tmp.dir, 'media');
  const storage = createDiskStorage({ root: mediaRoot, signer: createUrlSigner('retention-test-signing-secret-0123456789') });
  const assets = createAssetsRepo(db);
  const uploads = createUploadsRepo(db);
  const jobs = createJobsRepo(db);
  const user = await createUsersRepo(db).create(`user-${randomUUID()}`, 'user', NOW - 400 * DAY);
  const metrics = createMetrics();

  const deps = (over: Partial<RetentionDeps> = {}): RetentionDeps => ({ assets, uploads, jobs, storage, retentionDays: 30, metrics, ...over });

  async function job(options: { status?: JobRow['status']; createdAt?: number; finishedAt?: number | null; inputs?: ('reference' | 'start' | 'end')[]; foreignReference?: string } = {}) {
    const id = randomUUID();
    const status = options.status ?? 'succeeded';
    const createdAt = options.createdAt ?? NOW - HOUR;
    const held: Record<string, InputImage> = {};
    for (const role of options.inputs ?? []) {
      const key = storageKeys.jobInput(user.id, id, role, 'png');
      await storage.put(key, BYTES);
      held[role === 'reference' ? 'reference' : role === 'start' ? 'startImage' : 'endImage'] = { key, format: 'png', width: 8, height: 8, sha256: 'x', source: { uploadId: 'u' } };
    }
    // A spec naming someone else's key (as a spec from before inputs were copied might):
    // retention must leave it alone.
    if (options.foreignReference) held.reference = { key: options.foreignReference, format: 'png', width: 8, height: 8, sha256: 'x', source: { uploadId: 'u' } };
    const spec: Partial<JobSpec> = { mode: held.reference ? 'i2i' : 't2i', model: 'preview', prompt: 'p', seed: 1, width: 8, height: 8, steps: 1, ...held };
    const finished = options.finishedAt !== undefined ? options.finishedAt : ['succeeded', 'failed', 'canceled'].includes(status) ? createdAt + 1000 : null;
    await jobs.insert({
      id, user_id: user.id, mode: spec.mode!, model: 'preview', backend: 'builtin', status, prompt: 'p', negative_prompt: null, spec: JSON.stringify(spec),
      seed: 1, width: 8, height: 8, steps: 1, cfg_scale: 7.5, sampler: 'Euler', num_images: 1, priority: 0, max_attempts: 3,
      progress: 0, progress_step: 0, progress_total: 0, attempts: 1, warnings: '[]', lease_owner: null, lease_expires_at: null, error_code: null, error_message: null,
      idempotency_key: null, request_hash: null, created_at: createdAt, started_at: createdAt, finished_at: finished, updated_at: createdAt,
    });
    return { id, inputKeys: Object.values(held).map((i) => i.key) };
  }

  /** An asset with original, thumbnail and two variants, all on disk. */
  async function asset(jobId: string, options: { collection?: 'workspace' | 'library'; index?: number; createdAt?: number; expiresAt?: number | null } = {}): Promise<AssetRow> {
    const collection = options.collection ?? 'workspace';
    const index = options.index ?? 0;
    const original = collection === 'library' ? storageKeys.libraryOriginal(user.id, jobId, index) : storageKeys.workspaceOriginal(user.id, jobId, index);
    const thumbnail = collection === 'library' ? storageKeys.libraryThumbnail(user.id, jobId, index) : storageKeys.workspaceThumbnail(user.id, jobId, index);
    const variants = (['normal', 'high'] as const).map((name) => ({ name, preset: 'sd', format: 'webp' as const, width: 8, height: 8, bytes: 1, key: storageKeys.variant(original, 'sd', name, 'webp') }));
    const createdAt = options.createdAt ?? NOW - HOUR;
    const row = {
      id: randomUUID(), job_id: jobId, user_id: user.id, asset_index: index, type: 'image' as const, storage_key: original, thumbnail_key: thumbnail,
      content_type: 'image/png', collection, metadata: JSON.stringify({ width: 8, height: 8 }), variants: JSON.stringify(variants), created_at: createdAt,
      expires_at: options.expiresAt !== undefined ? options.expiresAt : collection === 'workspace' ? createdAt + 24 * HOUR : null,
    };
    for (const key of assetKeys(row)) await storage.put(key, BYTES);
    await assets.insert(row);
    return { ...row, deleting_at: null };
  }

  async function upload(options: { createdAt?: number; pending?: boolean } = {}) {
    const id = randomUUID();
    const key = options.pending ? null : `uploads/${user.id}/${id}/${randomUUID()}.png`;
    if (key) await storage.put(key, BYTES);
    const createdAt = options.createdAt ?? NOW - HOUR;
    await uploads.insert({
      id, user_id: user.id, status: key ? 'ready' : 'pending', filename: 'a.png', declared_size: null, storage_key: key,
      metadata: key ? '{}' : null, created_at: createdAt, url_expires_at: null, completed_at: key ? createdAt : null,
    });
    return { id, key };
  }

  const exists = async (key: string) => (await storage.stat(key)) !== undefined;

  /** Every stored file (relative to the media root), sorted: a snapshot for "nothing changed". */
  async function listFiles(): Promise<string[]> {
    const entries = await readdir(mediaRoot, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isFile() && !relative(mediaRoot, join(e.parentPath, e.name)).startsWith('.tmp')).map((e) => relative(mediaRoot, join(e.parentPath, e.name))).sort();
  }

  /** Every row of the tables retention touches, for "nothing changed". */
  async function snapshotRows() {
    return {
      assets: await db.selectFrom('assets').selectAll().orderBy('id').execute(),
      uploads: await db.selectFrom('uploads').selectAll().orderBy('id').execute(),
      sweeps: await db.selectFrom('job_input_sweeps').selectAll().orderBy('job_id').execute(),
      jobs: await db.selectFrom('jobs').selectAll().orderBy('id').execute(),
    };
  }

  async function counter(kind: string): Promise<number> {
    const metric = await metrics.retentionDeleted.get();
    return metric.values.find((v) => v.labels.kind === kind)?.value ?? 0;
  }

  return {
    db, storage: storage as Storage, assets, uploads, jobs, user, metrics, deps, job, asset, upload, exists, listFiles, snapshotRows, counter,
    async close() {
      await database.close();
      await tmp.remove();
    },
  };
}

export type Fixture = Awaited<ReturnType<typeof openFixture>>;
