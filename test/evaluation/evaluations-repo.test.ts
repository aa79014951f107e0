import { join } from 'node:path';
import { Migrator, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/db/create-db.js';
import * as evaluationsMigration from '../../src/db/migrations/0006-evaluations.js';
import { migrationProvider } from '../../src/db/migrations/index.js';
import type { Database } from '../../src/db/schema.js';
import { createEvaluationsRepo, type EvaluationsRepo } from '../../src/db/repos/evaluations-repo.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const NOW = Date.UTC(2026, 0, 31, 12);

/**
 * createDatabase applies the registered migrations; this adds 0006 under its name, so it runs
 * here until it is registered and is a no-op afterwards.
 */
async function migrateEvaluations(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => ({ ...(await migrationProvider.getMigrations()), '0006-evaluations': evaluationsMigration }) },
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}

describe('evaluations repo', () => {
  let handle: DatabaseHandle;
  let db: Kysely<Database>;
  let repo: EvaluationsRepo;
  let remove: () => Promise<void>;
  const assetIds = ['asset-0', 'asset-1'];

  beforeAll(async () => {
    const tmp = await makeTempDir('atelier-evaluations-');
    remove = tmp.remove;
    handle = await createDatabase(`sqlite:${join(tmp.dir, 'atelier.db')}`);
    await migrateEvaluations(handle.db);
    db = handle.db;
    repo = createEvaluationsRepo(db);
    await db.insertInto('users').values({ id: 'user-1', name: 'eve', role: 'user', created_at: NOW }).execute();
    await db
      .insertInto('jobs')
      .values({
        id: 'job-1', user_id: 'user-1', mode: 'i2i', model: 'preview', backend: 'builtin', status: 'succeeded', prompt: 'p', negative_prompt: null, spec: '{}',
        seed: 1, width: 8, height: 8, steps: 1, cfg_scale: 7.5, sampler: 'Euler', num_images: 2, priority: 0, progress: 1, progress_step: 1, progress_total: 1,
        attempts: 1, max_attempts: 3, lease_owner: null, lease_expires_at: null, error_code: null, error_message: null, idempotency_key: null, request_hash: null,
        warnings: '[]', created_at: NOW, started_at: NOW, finished_at: NOW, updated_at: NOW,
      })
      .execute();
    for (const [index, id] of assetIds.entries()) {
      await db
        .insertInto('assets')
        .values({
          id, job_id: 'job-1', user_id: 'user-1', asset_index: index, type: 'image', storage_key: `k/${index}.png`, thumbnail_key: null, content_type: 'image/png',
          collection: 'workspace', metadata: '{}', created_at: NOW, expires_at: null,
        })
        .execute();
    }
  });
  afterAll(async () => {
    await handle.close();
    await remove();
  });

  it('stores records and lists them by asset, details parsed back', async () => {
    await repo.insertMany(
      'job-1',
      [
        { asset_id: 'asset-0', metric: 'ssim', value: 0.93, details: { width: 8, height: 8 } },
        { asset_id: 'asset-0', metric: 'psnr', value: 31.25 },
        { asset_id: 'asset-1', metric: 'phash', value: 0, details: { hash: '0123456789abcdef' } },
      ],
      NOW,
    );
    const rows = await repo.listByAssetIds(['asset-0']);
    expect(rows.map((r) => [r.asset_id, r.metric, r.value, r.details])).toEqual([
      ['asset-0', 'psnr', 31.25, null],
      ['asset-0', 'ssim', 0.93, { width: 8, height: 8 }],
    ]);
    expect(rows[0]).toMatchObject({ job_id: 'job-1', created_at: NOW });
    expect(rows[0]!.id).not.toBe(rows[1]!.id);
    expect((await repo.listByAssetIds(assetIds)).map((r) => r.metric)).toEqual(['psnr', 'ssim', 'phash']);
  });

  it('answers nothing for no ids and does nothing for no records', async () => {
    expect(await repo.listByAssetIds([])).toEqual([]);
    expect(await repo.listByAssetIds(['no-such-asset'])).toEqual([]);
    await expect(repo.insertMany('job-1', [], NOW)).resolves.toBeUndefined();
  });

  it('refuses a record for an asset that does not exist', async () => {
    await expect(repo.insertMany('job-1', [{ asset_id: 'ghost', metric: 'psnr', value: 1 }], NOW)).rejects.toThrow(/FOREIGN KEY/);
  });

  it('deletes an asset’s scores with the asset', async () => {
    await db.deleteFrom('assets').where('id', '=', 'asset-1').execute();
    expect(await repo.listByAssetIds(['asset-1'])).toEqual([]);
    expect(await repo.listByAssetIds(['asset-0'])).toHaveLength(2);
  });
});
