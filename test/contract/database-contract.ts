import { createQueueEntriesRepo } from '../../src/db/repos/queue-entries-repo.js';
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/create-db.js';
import { isUniqueViolation } from '../../src/db/dialect.js';
import { createAssetsRepo } from '../../src/db/repos/assets-repo.js';
import { createJobEventsRepo } from '../../src/db/repos/job-events-repo.js';
import { createJobsRepo } from '../../src/db/repos/jobs-repo.js';
import { createPromptCacheRepo } from '../../src/db/repos/prompt-cache-repo.js';
import { createUploadsRepo } from '../../src/db/repos/uploads-repo.js';
import { createUsersRepo } from '../../src/db/repos/users-repo.js';
import type { Database } from '../../src/db/schema.js';
import { AtelierError } from '../../src/errors/atelier-error.js';
import { createEvaluationsRepo } from '../../src/db/repos/evaluations-repo.js';
import { createEmbeddedQueue } from '../../src/queue/embedded/embedded-queue.js';
import { createJobCountsRepo, type JobCounts } from '../../src/db/repos/job-counts-repo.js';
import { createRateLimitCheck, DEFAULT_RATE_LIMITS } from '../../src/service/rate-limits.js';
import type { ModelConfig } from '../../src/backends/model-registry.js';
import { createWorkerTokensRepo } from '../../src/db/repos/worker-tokens-repo.js';
import { assetRow, insertUser, jobRow } from '../db/rows.js';

export interface DatabaseFixture {
  readonly dialect: DatabaseHandle['dialect'];
  /** A handle on the fixture's fresh, migrated database ("node A"). */
  readonly handle: DatabaseHandle;
  /**
   * Another node on the same database. PostgreSQL: a second createDatabase (its own pool).
   * SQLite: the same handle — better-sqlite3 is synchronous, so two connections in one process
   * would block each other's transactions; SQLite nodes share a database only as processes.
   */
  peer(): Promise<DatabaseHandle>;
  /** Opens the same database again with createDatabase (migrations run again). */
  reopen(): Promise<DatabaseHandle>;
  /** Closes every handle and removes the database. */
  cleanup(): Promise<void>;
}

const workerTokens = (db: Kysely<Database>) => createWorkerTokensRepo(db);

const T0 = 1_767_225_600_000; // 2026-01-01, an epoch ms well beyond 2^32

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

/**
 * What every database adapter must do, through the repositories' public functions: the same
 * migrations, the same results, the same types (numbers stay numbers), and correctness when
 * two nodes share the database.
 */
export function databaseContract(name: string, make: () => Promise<DatabaseFixture>): void {
  describe(`Database contract: ${name}`, () => {
    let f: DatabaseFixture;
    let db: DatabaseHandle['db'];
    beforeEach(async () => {
      f = await make();
      db = f.handle.db;
    });
    afterEach(async () => {
      await f.cleanup();
    });

    describe('migrations', () => {
      it('apply from empty and create every table', async () => {
        const tables = (await db.introspection.getTables()).map((t) => t.name);
        const expected: (keyof Database)[] = ['users', 'api_tokens', 'jobs', 'assets', 'job_events', 'queue_entries', 'uploads', 'prompt_cache', 'evaluations', 'worker_tokens', 'job_input_sweeps', 'webhook_deliveries', 'webhook_attempts', 'webhook_secrets'];
        expect(tables).toEqual(expect.arrayContaining(expected));
        const applied = await (db as unknown as Kysely<{ kysely_migration: { name: string } }>).selectFrom('kysely_migration').select('name').orderBy('name').execute();
        expect(applied.map((r) => r.name)).toEqual([
          '0001-initial',
          '0002-uploads-and-library',
          '0003-asset-variants',
          '0004-retention',
          '0005-prompt-cache',
          '0006-evaluations',
          '0007-workers',
          '0008-postgres-double-precision',
          '0009-webhooks',
          '0010-user-removal',
          '0011-jobs-created-index',
        ]);
      });

      it('reopening an up-to-date database changes nothing and keeps the rows', async () => {
        const user = await insertUser(db, 'kept');
        const again = await f.reopen();
        expect(await createUsersRepo(again.db).findByName('kept')).toEqual(user);
      });
    });

    describe('users and tokens', () => {
      it('creates users, finds them by token and counts admins', async () => {
        const users = createUsersRepo(db);
        const admin = await users.create('root', 'admin', T0);
        const alice = await users.create('alice', 'user', T0 + 1);
        const token = await users.addToken(alice.id, 'test', T0);
        expect(await users.findByToken(token)).toEqual(alice);
        expect(await users.findByToken(`${token}x`)).toBeUndefined();
        expect(await users.findByName('root')).toEqual(admin);
        expect(await users.findByName('ROOT')).toBeUndefined();
        expect(await users.countAdmins()).toBe(1);
        // A known token registered twice (ATELIER_ADMIN_TOKEN on every start) is a no-op.
        await users.addToken(admin.id, 'configured', T0, 'atl_fixed');
        await users.addToken(admin.id, 'configured', T0, 'atl_fixed');
        expect(await users.findByToken('atl_fixed')).toEqual(admin);
      });

      it('refuses a second user with the same name as a unique violation', async () => {
        const users = createUsersRepo(db);
        await users.create('bob', 'user', T0);
        expect(isUniqueViolation(await rejection(users.create('bob', 'user', T0)))).toBe(true);
      });
    });

    describe('jobs', () => {
      it('inserts, finds, runs and succeeds with one set of assets', async () => {
        const user = await insertUser(db);
        const jobs = createJobsRepo(db);
        const assets = createAssetsRepo(db);
        const job = jobRow(user.id);
        // Each change on a job's path logs its event in the same write and returns it.
        const queued = await jobs.insert(job);
        expect(queued.event).toEqual({ seq: 1, type: 'queued', data: {}, at: job.created_at });
        expect(await jobs.findById(job.id)).toEqual(job);
        expect((await jobs.listActive()).map((j) => j.id)).toEqual([job.id]);

        const running = await jobs.markRunning(job.id, 1, 'runner-a', T0 + 30_000, T0 + 1, { attempt: 1, maxAttempts: 3 });
        expect(running?.row).toEqual({ ...job, status: 'running', attempts: 1, lease_owner: 'runner-a', lease_expires_at: T0 + 30_000, progress: 0, progress_step: 0, started_at: T0 + 1, updated_at: T0 + 1 });
        expect(running?.event).toEqual({ seq: 2, type: 'running', data: { attempt: 1, maxAttempts: 3 }, at: T0 + 1 });
        await jobs.updateProgress(job.id, 1, 1, 3, T0 + 2);
        expect(await jobs.findById(job.id)).toMatchObject({ status: 'running', attempts: 1, lease_owner: 'runner-a', lease_expires_at: T0 + 30_000, progress: 1 / 3, progress_step: 1 });

        const assetRows = [assetRow(job, 0), assetRow(job, 1)];
        const succeeded = await jobs.succeed(job.id, 1, assetRows, T0 + 3);
        expect(succeeded?.row).toMatchObject({ id: job.id, status: 'succeeded', finished_at: T0 + 3 });
        expect(succeeded?.event).toEqual({ seq: 3, type: 'succeeded', data: { assets: assetRows.map((a) => ({ id: a.id, index: a.asset_index })) }, at: T0 + 3 });
        // A stale or repeated success is refused, records no second set and logs nothing.
        expect(await jobs.succeed(job.id, 1, [assetRow(job, 0), assetRow(job, 1)], T0 + 4)).toBeUndefined();
        const log = await createJobEventsRepo(db).listAfter(job.id, user.id, 0);
        expect(log.map((e) => [e.seq, e.type])).toEqual([[1, 'queued'], [2, 'running'], [3, 'succeeded']]);
        expect(await jobs.findById(job.id)).toMatchObject({ status: 'succeeded', progress: 1, finished_at: T0 + 3, lease_owner: null });
        expect((await assets.listForJob(job.id)).map((a) => a.asset_index)).toEqual([0, 1]);
        // The database itself refuses a second asset in the same slot.
        expect(isUniqueViolation(await rejection(assets.insert(assetRow(job, 1))))).toBe(true);
        expect(await assets.listForJob(job.id)).toHaveLength(2);
      });

      it('a success whose transaction fails leaves neither the status nor any asset', async () => {
        const user = await insertUser(db);
        const jobs = createJobsRepo(db);
        const job = jobRow(user.id);
        await jobs.insert(job);
        await jobs.markRunning(job.id, 1, 'r', T0 + 30_000, T0);
        const duplicate = assetRow(job, 0);
        expect(isUniqueViolation(await rejection(jobs.succeed(job.id, 1, [duplicate, { ...assetRow(job, 0) }], T0 + 1)))).toBe(true);
        expect(await jobs.findById(job.id)).toMatchObject({ status: 'running' });
        expect(await createAssetsRepo(db).listForJob(job.id)).toEqual([]);
        // Nor a `succeeded` in the log.
        expect((await createJobEventsRepo(db).listAfter(job.id, user.id, 0)).map((e) => e.type)).toEqual(['queued', 'running']);
      });

      it('fail, requeue and cancel are conditional on the current state and attempt', async () => {
        const user = await insertUser(db);
        const jobs = createJobsRepo(db);
        const job = jobRow(user.id);
        await jobs.insert(job);
        await jobs.markRunning(job.id, 1, 'r', T0 + 30_000, T0);
        expect(await jobs.requeue(job.id, 'backend_error', 'boom', T0 + 1)).toBe(true);
        expect(await jobs.findById(job.id)).toMatchObject({ status: 'queued', error_code: 'backend_error', lease_owner: null });
        await jobs.markRunning(job.id, 2, 'r', T0 + 30_000, T0 + 2);
        // A stale attempt cannot succeed.
        expect(await jobs.succeed(job.id, 1, [], T0 + 3)).toBeUndefined();
        expect(await jobs.fail(job.id, 'backend_error', 'boom again', T0 + 4)).toBe(true);
        expect(await jobs.fail(job.id, 'backend_error', 'late', T0 + 5)).toBe(false);
        expect(await jobs.cancel(job.id, T0 + 6)).toBe(false);
        expect(await jobs.requeue(job.id, 'x', 'y', T0 + 7)).toBe(false);
        expect(await jobs.findById(job.id)).toMatchObject({ status: 'failed', error_message: 'boom again', finished_at: T0 + 4 });

        const queued = jobRow(user.id);
        await jobs.insert(queued);
        expect(await jobs.cancel(queued.id, T0, ['running'])).toBe(false);
        expect(await jobs.cancel(queued.id, T0)).toBe(true);
        expect(await jobs.markRunning(queued.id, 1, 'r', T0, T0)).toBeUndefined();
        expect((await jobs.findById(queued.id))?.status).toBe('canceled');
      });

      it('one job per (user, Idempotency-Key); keys are per user and absent keys never collide', async () => {
        const alice = await insertUser(db);
        const bob = await insertUser(db);
        const jobs = createJobsRepo(db);
        const first = jobRow(alice.id, { idempotency_key: 'key-1', request_hash: 'h1' });
        await jobs.insert(first);
        expect(isUniqueViolation(await rejection(jobs.insert(jobRow(alice.id, { idempotency_key: 'key-1', request_hash: 'h2' }))))).toBe(true);
        expect(isUniqueViolation(await rejection(jobs.insertWithAssets(jobRow(alice.id, { idempotency_key: 'key-1' }), [])))).toBe(true);
        await jobs.insert(jobRow(bob.id, { idempotency_key: 'key-1' }));
        await jobs.insert(jobRow(alice.id));
        await jobs.insert(jobRow(alice.id));
        expect(await jobs.findByIdempotencyKey(alice.id, 'key-1')).toEqual(first);
        expect(await jobs.findByIdempotencyKey(alice.id, 'KEY-1')).toBeUndefined();
      });

      it('finds terminal jobs with input copies to sweep, once', async () => {
        const user = await insertUser(db);
        const jobs = createJobsRepo(db);
        const withInputs = jobRow(user.id, { status: 'succeeded', finished_at: T0, spec: '{"reference":{"key":"job-inputs/u/j/reference.png"}}' });
        await jobs.insert(withInputs);
        await jobs.insert(jobRow(user.id, { status: 'succeeded', finished_at: T0, spec: '{}' }));
        await jobs.insert(jobRow(user.id, { status: 'running', spec: '{"reference":{"key":"job-inputs/x"}}' }));
        expect((await jobs.listWithInputsToSweep(T0 + 1)).map((j) => j.id)).toEqual([withInputs.id]);
        await jobs.markInputsSwept(withInputs.id, T0 + 2);
        await jobs.markInputsSwept(withInputs.id, T0 + 3);
        expect(await jobs.listWithInputsToSweep(T0 + 1)).toEqual([]);
      });
    });

    describe('numbers', () => {
      it('bigint, integer and float columns come back as the exact JS numbers written', async () => {
        const user = await insertUser(db);
        const jobs = createJobsRepo(db);
        const job = jobRow(user.id, { seed: 4_294_967_295, created_at: T0 + 123, updated_at: T0 + 456, cfg_scale: 7.1, progress: 1 / 3, lease_expires_at: 8_640_000_000_000 });
        await jobs.insert(job);
        const read = (await jobs.findById(job.id))!;
        for (const column of ['seed', 'created_at', 'updated_at', 'cfg_scale', 'progress', 'lease_expires_at', 'width', 'attempts', 'cached'] as const) {
          expect(typeof read[column], column).toBe('number');
          expect(read[column], column).toBe(job[column]);
        }
        const asset = assetRow(job, 0);
        await createAssetsRepo(db).insert(asset);
        const evaluations = createEvaluationsRepo(db);
        await evaluations.insertMany(job.id, [{ asset_id: asset.id, metric: 'ssim', value: 0.987654321012345 }], T0 + 789);
        const [score] = await evaluations.listByAssetIds([asset.id]);
        expect(score).toMatchObject({ value: 0.987654321012345, created_at: T0 + 789 });
      });

      it('counts and sums are numbers', async () => {
        const users = createUsersRepo(db);
        await users.create('a1', 'admin', T0);
        await users.create('a2', 'admin', T0);
        expect(await users.countAdmins()).toBe(2);
        const user = await insertUser(db);
        for (let i = 0; i < 3; i++) await createJobsRepo(db).insert(jobRow(user.id, { created_at: T0 + i }));
        const counts = createJobCountsRepo(db);
        expect(await counts.countRecent(user.id, T0 - 1)).toEqual({ count: 3, oldestCreatedAt: T0 });
        expect(await counts.countRunning(user.id)).toBe(3);
        const raw = await db
          .selectFrom('jobs')
          .select((eb) => [eb.fn.countAll().as('n'), eb.fn.sum('seed').as('seeds'), eb.fn.max('created_at').as('newest')])
          .executeTakeFirstOrThrow();
        expect(raw).toEqual({ n: 3, seeds: 126, newest: T0 + 2 });
      });
    });

    describe('job counts', () => {
      it('counts a user’s jobs created after the window start in any status, and only queued or running ones as running', async () => {
        const alice = await insertUser(db);
        const bob = await insertUser(db);
        const jobs = createJobsRepo(db);
        const counts = createJobCountsRepo(db);
        expect(await counts.countRecent(alice.id, T0)).toEqual({ count: 0, oldestCreatedAt: undefined });
        expect(await counts.countRunning(alice.id)).toBe(0);
        await jobs.insert(jobRow(alice.id, { created_at: T0, status: 'queued' })); // at the window start: outside it
        const statuses = ['canceled', 'failed', 'succeeded', 'running', 'queued'] as const;
        for (const [i, status] of statuses.entries()) await jobs.insert(jobRow(alice.id, { created_at: T0 + 1 + i, status }));
        await jobs.insert(jobRow(bob.id, { created_at: T0 + 1, status: 'running' }));
        expect(await counts.countRecent(alice.id, T0)).toEqual({ count: 5, oldestCreatedAt: T0 + 1 });
        expect(await counts.countRecent(alice.id, T0 + 3)).toEqual({ count: 2, oldestCreatedAt: T0 + 4 });
        expect(await counts.countRecent(alice.id, T0 + 5)).toEqual({ count: 0, oldestCreatedAt: undefined });
        expect(await counts.countRunning(alice.id)).toBe(3);
        expect(await counts.countRecent(bob.id, T0)).toEqual({ count: 1, oldestCreatedAt: T0 + 1 });
        expect(await counts.countRunning(bob.id)).toBe(1);
      });

      it('a guarded insert hands its guard the counts before the job, and a refusal records nothing', async () => {
        const user = await insertUser(db);
        const jobs = createJobsRepo(db);
        const seen: { recent: number; running: number }[] = [];
        const observe = async (counts: JobCounts) => {
          seen.push({ recent: (await counts.countRecent(user.id, T0 - 1)).count, running: await counts.countRunning(user.id) });
        };
        await jobs.insert(jobRow(user.id, { created_at: T0 }), observe);
        await jobs.insert(jobRow(user.id, { created_at: T0, status: 'succeeded' }), observe);
        await jobs.insertWithAssets(jobRow(user.id, { created_at: T0, status: 'succeeded' }), [], observe);
        expect(seen).toEqual([
          { recent: 0, running: 0 },
          { recent: 1, running: 1 },
          { recent: 2, running: 1 },
        ]);

        const refuse = async (counts: JobCounts) => {
          const { count } = await counts.countRecent(user.id, T0 - 1);
          throw new AtelierError('rate_limited', `Refused at ${count}`);
        };
        const refused = jobRow(user.id, { created_at: T0 });
        expect(await rejection(jobs.insert(refused, refuse))).toMatchObject({ code: 'rate_limited', message: 'Refused at 3' });
        const cached = jobRow(user.id, { created_at: T0, status: 'succeeded' });
        expect(await rejection(jobs.insertWithAssets(cached, [assetRow(cached, 0)], refuse))).toMatchObject({ code: 'rate_limited' });
        expect(await jobs.findById(refused.id)).toBeUndefined();
        expect(await jobs.findById(cached.id)).toBeUndefined();
        expect(await createAssetsRepo(db).listForJob(cached.id)).toEqual([]);
        // The refusals released the user's row: the next guarded insert goes through.
        await jobs.insert(jobRow(user.id, { created_at: T0 }), observe);
        expect(seen.at(-1)).toEqual({ recent: 3, running: 1 });
      });
    });

    describe('job events', () => {
      it('numbers each job’s events from 1 in order and lists those after a sequence', async () => {
        const user = await insertUser(db);
        const job = jobRow(user.id);
        const other = jobRow(user.id);
        // Recording a job logs its `queued` as event 1.
        await createJobsRepo(db).insert(job);
        await createJobsRepo(db).insert(other);
        const events = createJobEventsRepo(db);
        for (const type of ['running', 'progress', 'succeeded'] as const) await events.append(job.id, user.id, type, { type }, T0);
        expect((await events.append(other.id, user.id, 'running', {}, T0)).seq).toBe(2);
        const all = await events.listAfter(job.id, user.id, 0);
        expect(all.map((e) => [e.seq, e.type])).toEqual([
          [1, 'queued'],
          [2, 'running'],
          [3, 'progress'],
          [4, 'succeeded'],
        ]);
        expect(all[0]).toMatchObject({ data: {}, at: job.created_at });
        expect(all[2]).toMatchObject({ data: { type: 'progress' }, at: T0 });
        expect((await events.listAfter(job.id, user.id, 2)).map((e) => e.seq)).toEqual([3, 4]);
      });

      it('concurrent appends from two nodes get distinct, gap-free sequence numbers', async () => {
        const peer = await f.peer();
        const user = await insertUser(db);
        const job = jobRow(user.id);
        await createJobsRepo(db).insert(job);
        const [a, b] = [createJobEventsRepo(db), createJobEventsRepo(peer.db)];
        // A state change that logs its own event races the appends too (it retries as a whole).
        const [started, ...appended] = await Promise.all([
          createJobsRepo(peer.db).markRunning(job.id, 1, 'peer', T0 + 30_000, T0, { attempt: 1 }),
          ...Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? a : b).append(job.id, user.id, 'progress', { i }, T0 + i)),
        ]);
        const seqs = [started!.event.seq, ...appended.map((e) => e.seq)].sort((x, y) => x - y);
        // Event 1 is the job's `queued`, logged when it was recorded.
        expect(seqs).toEqual(Array.from({ length: 61 }, (_, i) => i + 2));
        const listed = await a.listAfter(job.id, user.id, 1);
        expect(listed.map((e) => e.seq)).toEqual(seqs);
        // Each stored event is the one its writer was told it got.
        for (const event of appended) expect(listed[event.seq - 2]!.data).toEqual(event.data);
        expect(listed[started!.event.seq - 2]).toMatchObject({ type: 'running', data: { attempt: 1 } });
      });
    });

    describe('uploads', () => {
      it('a pending upload completes once', async () => {
        const user = await insertUser(db);
        const uploads = createUploadsRepo(db);
        const row = { id: randomUUID(), user_id: user.id, status: 'pending' as const, filename: 'a.png', declared_size: 5_000_000_000, storage_key: null, metadata: null, created_at: T0, url_expires_at: T0 + 900_000, completed_at: null };
        await uploads.insert(row);
        expect(await uploads.findById(row.id)).toEqual({ ...row, deleting_at: null });
        const results = await Promise.all([uploads.complete(row.id, 'k1', { width: 8 }, T0 + 1), uploads.complete(row.id, 'k2', { width: 9 }, T0 + 2)]);
        expect(results.sort()).toEqual([false, true]);
        const done = (await uploads.findById(row.id))!;
        expect(done).toMatchObject({ status: 'ready', declared_size: 5_000_000_000 });
        expect(JSON.parse(done.metadata!)).toEqual(done.storage_key === 'k1' ? { width: 8 } : { width: 9 });
        expect(await uploads.complete(row.id, 'k3', {}, T0 + 3)).toBe(false);
        expect(await uploads.markOlderThan(T0, T0 + 4)).toBe(1);
        expect(await uploads.findById(row.id)).toBeUndefined();
        expect((await uploads.listDeleting()).map((u) => u.id)).toEqual([row.id]);
      });
    });

    describe('prompt cache', () => {
      it('stores entries, finds the newest live ones and counts hits from two nodes', async () => {
        const peer = await f.peer();
        const user = await insertUser(db);
        const job = jobRow(user.id, { status: 'succeeded' });
        await createJobsRepo(db).insert(job);
        const cache = createPromptCacheRepo(db);
        const entry = { id: randomUUID(), user_id: user.id, job_id: job.id, created_at: T0, expires_at: T0 + 1000, seed_hash: 'with-seed', any_seed_hash: 'any-seed' };
        await cache.insert(entry);
        await cache.insert({ ...entry, id: randomUUID(), created_at: T0 + 1, expires_at: T0 + 5 });
        const found = await cache.find('with-seed', false, T0 + 10, user.id);
        expect(found).toEqual([{ id: entry.id, user_id: user.id, job_id: job.id, created_at: T0, expires_at: T0 + 1000 }]);
        expect(await cache.find('any-seed', true, T0 + 2, undefined)).toHaveLength(2);
        expect(await cache.find('with-seed', false, T0 + 10, randomUUID())).toEqual([]);

        const peerCache = createPromptCacheRepo(peer.db);
        await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? cache : peerCache).countHit(entry.id)));
        const { hits } = await db.selectFrom('prompt_cache').select('hits').where('id', '=', entry.id).executeTakeFirstOrThrow();
        expect(hits).toBe(40);
        await cache.delete(entry.id);
        expect(await cache.find('with-seed', false, T0 + 10, undefined)).toEqual([]);
      });
    });

    describe('two nodes sharing the database', () => {
      it('the SQL queue hands each of 200 jobs to exactly one claimer across both nodes', async () => {
        const peer = await f.peer();
        const policy = { backoffBaseMs: 1000, backoffMaxMs: 8000 };
        const [a, b] = [createEmbeddedQueue(createQueueEntriesRepo(db), policy), createEmbeddedQueue(createQueueEntriesRepo(peer.db), policy)];
        const ids = Array.from({ length: 200 }, (_, i) => `job-${String(i).padStart(3, '0')}`);
        for (const id of ids) await a.enqueue(id, { priority: Number(id.slice(-1)) % 3, maxAttempts: 3 });
        const claimed: string[] = [];
        const claimer = async (queue: typeof a, name: string) => {
          for (;;) {
            const lease = await queue.claim(name, 60_000);
            if (!lease) return;
            claimed.push(lease.jobId);
          }
        };
        await Promise.all([0, 1, 2, 3].flatMap((i) => [claimer(a, `a${i}`), claimer(b, `b${i}`)]));
        expect(claimed).toHaveLength(200);
        expect(new Set(claimed).size).toBe(200);
        expect(await b.counts()).toEqual({ waiting: 0, delayed: 0, active: 200 });
      });

      it('simultaneous claimers never come back empty while a job waits for each of them', async () => {
        const peer = await f.peer();
        const policy = { backoffBaseMs: 1000, backoffMaxMs: 8000 };
        const [a, b] = [createEmbeddedQueue(createQueueEntriesRepo(db), policy), createEmbeddedQueue(createQueueEntriesRepo(peer.db), policy)];
        for (let round = 0; round < 5; round++) {
          for (let i = 0; i < 8; i++) await a.enqueue(`r${round}-${i}`, { priority: 0, maxAttempts: 1 });
          const leases = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).claim(`w${i}`, 60_000)));
          expect(leases.every((l) => l !== undefined), `round ${round}`).toBe(true);
          expect(new Set(leases.map((l) => l!.jobId)).size).toBe(8);
        }
      });

      it('an attempt is settled once when a node fails it while another expires its lease', async () => {
        const peer = await f.peer();
        let now = T0;
        const policy = { backoffBaseMs: 1000, backoffMaxMs: 8000 };
        const [a, b] = [createEmbeddedQueue(createQueueEntriesRepo(db), policy, () => now), createEmbeddedQueue(createQueueEntriesRepo(peer.db), policy, () => now)];
        for (let i = 0; i < 10; i++) {
          await a.enqueue(`s${i}`, { priority: 0, maxAttempts: 5 });
          const lease = (await a.claim('w', 1000))!;
          now += 2000;
          const [failed, recovered] = await Promise.all([a.fail(lease, { code: 'backend_error', message: 'x' }, true), b.recoverExpired()]);
          const settled = (failed ? 1 : 0) + recovered.filter((r) => r.jobId === lease.jobId).length;
          expect(settled, `job s${i}`).toBe(1);
          const entry = await db.selectFrom('queue_entries').select(['state', 'attempts']).where('job_id', '=', lease.jobId).executeTakeFirstOrThrow();
          expect(entry).toEqual({ state: 'waiting', attempts: 1 });
          await a.cancel(lease.jobId);
        }
      });

      it('simultaneous submissions on both nodes never exceed the hourly or the concurrent limit', async () => {
        const peer = await f.peer();
        const context = (user: Awaited<ReturnType<typeof insertUser>>) => ({ user, prompt: 'p', negativePrompt: undefined, model: {} as ModelConfig, request: {} });
        // What the job service does: an early check, then the insert guarded by the re-check.
        const submitOn = (handle: DatabaseHandle, limits: { perHour: number; concurrent: number }) => {
          const check = createRateLimitCheck({ ...createJobCountsRepo(handle.db), clock: () => T0 + 10 }, { ...DEFAULT_RATE_LIMITS, ...limits });
          const jobs = createJobsRepo(handle.db);
          return async (user: Awaited<ReturnType<typeof insertUser>>) => {
            await check(context(user));
            await jobs.insert(jobRow(user.id, { created_at: T0 }), (trx) => check.recheck!(context(user), trx));
          };
        };
        for (const limits of [
          { perHour: 5, concurrent: 0 },
          { perHour: 0, concurrent: 3 },
        ]) {
          const user = await insertUser(db);
          const [a, b] = [submitOn(f.handle, limits), submitOn(peer, limits)];
          const outcomes = await Promise.allSettled(Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? a : b)(user)));
          const admitted = outcomes.filter((o) => o.status === 'fulfilled').length;
          const refusals = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
          const limit = limits.perHour || limits.concurrent;
          expect(admitted, JSON.stringify(limits)).toBe(limit);
          for (const error of refusals) expect(error).toMatchObject({ code: 'rate_limited' });
          expect(refusals.every((e) => e instanceof AtelierError)).toBe(true);
          expect(await createJobCountsRepo(db).countRunning(user.id)).toBe(limit);
        }
      });

      it('two nodes creating the same worker name: one succeeds, the other is told the name is taken', async () => {
        const peer = await f.peer();
        const outcomes = await Promise.allSettled([workerTokens(db).create('gpu-1', T0), workerTokens(peer.db).create('gpu-1', T0)]);
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
        expect(refused.reason).toMatchObject({ code: 'invalid_parameter', field: 'name' });
        expect(await workerTokens(db).list()).toHaveLength(1);
      });
    });
  });
}
