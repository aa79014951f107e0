import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, JobRow, NewAssetRow, UserRow } from '../../src/db/schema.js';

/** A job row with every column set; `overrides` change what a test is about. */
export function jobRow(userId: string, overrides: Partial<JobRow> = {}): JobRow {
  const now = overrides.created_at ?? 1_767_225_600_000;
  return {
    id: randomUUID(),
    user_id: userId,
    mode: 't2i',
    model: 'preview',
    backend: 'builtin',
    status: 'queued',
    prompt: 'a lighthouse at dusk',
    negative_prompt: null,
    spec: '{}',
    seed: 42,
    width: 64,
    height: 64,
    steps: 4,
    cfg_scale: 7.5,
    sampler: 'Euler',
    num_images: 2,
    priority: 0,
    progress: 0,
    progress_step: 0,
    progress_total: 8,
    attempts: 0,
    max_attempts: 3,
    lease_owner: null,
    lease_expires_at: null,
    error_code: null,
    error_message: null,
    idempotency_key: null,
    request_hash: null,
    warnings: '[]',
    created_at: now,
    started_at: null,
    finished_at: null,
    updated_at: now,
    cached: 0,
    cached_from: null,
    cost: null,
    webhook_url: null,
    webhook_events: null,
    ...overrides,
  };
}

/** Workspace image `index` of `job`. */
export function assetRow(job: JobRow, index: number, overrides: Partial<NewAssetRow> = {}): NewAssetRow {
  return {
    id: randomUUID(),
    job_id: job.id,
    user_id: job.user_id,
    asset_index: index,
    type: 'image',
    storage_key: `media/${job.user_id}/${job.id}/${index}.png`,
    thumbnail_key: null,
    content_type: 'image/png',
    collection: 'workspace',
    metadata: '{}',
    created_at: job.created_at,
    expires_at: null,
    ...overrides,
  };
}

/** A user row written straight to the table. */
export async function insertUser(db: Kysely<Database>, name = `user-${randomUUID().slice(0, 8)}`, role: UserRow['role'] = 'user'): Promise<UserRow> {
  const user: UserRow = { id: randomUUID(), name, role, created_at: 1_767_225_600_000 };
  await db.insertInto('users').values(user).execute();
  return user;
}
