import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../src/backends/model-registry.js';
import { createDatabase, type DatabaseHandle } from '../../src/db/create-db.js';
import { createUsersRepo } from '../../src/db/repos/users-repo.js';
import type { JobRow, UserRow } from '../../src/db/schema.js';
import { AtelierError } from '../../src/errors/atelier-error.js';
import type { AdmissionCheck } from '../../src/service/admission.js';
import { createJobCountsRepo } from '../../src/db/repos/job-counts-repo.js';
import { createRateLimitCheck, DEFAULT_RATE_LIMITS, type RateLimitConfig } from '../../src/service/rate-limits.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 1, 1, 9);

let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let file: string;
let database: DatabaseHandle;
let now: number;
let alice: UserRow;
let bob: UserRow;
let admin: UserRow;

beforeEach(async () => {
  tmp = await makeTempDir('atelier-rate-limits-');
  file = join(tmp.dir, 'atelier.db');
  database = await createDatabase(`sqlite:${file}`);
  const users = createUsersRepo(database.db);
  alice = await users.create('alice', 'user', T0 - HOUR);
  bob = await users.create('bob', 'user', T0 - HOUR);
  admin = await users.create('root', 'admin', T0 - HOUR);
  now = T0;
});

afterEach(async () => {
  await database.close();
  await tmp.remove();
});

function check(limits: Partial<RateLimitConfig> = {}, handle: DatabaseHandle = database): AdmissionCheck {
  return createRateLimitCheck({ ...createJobCountsRepo(handle.db), clock: () => now }, { ...DEFAULT_RATE_LIMITS, ...limits });
}

const context = (user: UserRow) => ({ user, prompt: 'p', negativePrompt: undefined, model: {} as ModelConfig, request: {} });

async function insertJob(user: UserRow, createdAt: number, status: JobRow['status'] = 'succeeded'): Promise<string> {
  const id = randomUUID();
  await database.db
    .insertInto('jobs')
    .values({
      id, user_id: user.id, mode: 't2i', model: 'preview', backend: 'builtin', status, prompt: 'p', negative_prompt: null, spec: '{}',
      seed: 1, width: 8, height: 8, steps: 1, cfg_scale: 7.5, sampler: 'Euler', num_images: 1, priority: 0, progress: 0, progress_step: 0,
      progress_total: 1, attempts: 0, max_attempts: 3, lease_owner: null, lease_expires_at: null, error_code: null, error_message: null,
      idempotency_key: null, request_hash: null, warnings: '[]', created_at: createdAt, started_at: null, finished_at: null, updated_at: createdAt,
    })
    .execute();
  return id;
}

/** Admits and records `n` jobs for `user`, one a minute from `now`, as the job service would. */
async function submit(gate: AdmissionCheck, user: UserRow, n: number, status: JobRow['status'] = 'succeeded'): Promise<void> {
  for (let i = 0; i < n; i++) {
    await gate(context(user));
    await insertJob(user, now, status);
    now += 60_000;
  }
}

async function refusal(gate: AdmissionCheck, user: UserRow): Promise<AtelierError> {
  const error = await gate(context(user)).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(AtelierError);
  return error as AtelierError;
}

describe('createRateLimitCheck', () => {
  it('asks for the locked re-check only when the user has a limit to enforce', () => {
    expect(check().rechecks?.(context(alice))).toBe(true);
    expect(check().rechecks?.(context(admin))).toBe(false);
    expect(check({ perHour: 0, concurrent: 0 }).rechecks?.(context(alice))).toBe(false);
    expect(check({ perHour: 0, concurrent: 1 }).rechecks?.(context(alice))).toBe(true);
    expect(check({ perUser: { root: { perHour: 5 } } }).rechecks?.(context(admin))).toBe(true);
    expect(check({ perUser: { alice: { perHour: 0, concurrent: 0 } } }).rechecks?.(context(alice))).toBe(false);
  });

  it('admits 50 jobs in an hour and refuses the 51st until the oldest leaves the window', async () => {
    const gate = check();
    await submit(gate, alice, 50);
    expect(now).toBe(T0 + 50 * 60_000);

    const error = await refusal(gate, alice);
    expect(error.status).toBe(429);
    expect(error.code).toBe('rate_limited');
    // The first job (T0) leaves the window at T0 + 1 h, 10 minutes from now.
    expect(error.details).toEqual({ retryAfterSeconds: 600, limit: 50, window: 'hour' });
    expect(error.message).toBe('Rate limit reached: 50 jobs per hour. Try again in 600 s.');
    expect(error.toJSON()).toMatchObject({ code: 'rate_limited', retryAfterSeconds: 600, limit: 50, window: 'hour' });

    now = T0 + HOUR - 1;
    expect((await refusal(gate, alice)).details).toMatchObject({ retryAfterSeconds: 1 });
    now = T0 + HOUR;
    await expect(gate(context(alice))).resolves.toBeUndefined();
  });

  it('counts canceled and failed jobs, but not other users’ jobs', async () => {
    const gate = check({ perHour: 3 });
    await submit(gate, alice, 1, 'canceled');
    await submit(gate, alice, 1, 'failed');
    for (let i = 0; i < 5; i++) await insertJob(bob, now);
    await submit(gate, alice, 1);
    expect((await refusal(gate, alice)).details).toMatchObject({ limit: 3, window: 'hour' });
  });

  it('refuses a third job while two are queued or running, and admits it when one ends', async () => {
    const gate = check();
    const first = await insertJob(alice, now, 'queued');
    await insertJob(alice, now, 'running');

    const error = await refusal(gate, alice);
    expect(error.details).toEqual({ retryAfterSeconds: 5, limit: 2, window: 'concurrent' });
    expect(error.message).toBe('Concurrency limit reached: 2 jobs queued or running at once. Try again when one finishes.');
    await expect(gate(context(bob))).resolves.toBeUndefined();

    await database.db.updateTable('jobs').set({ status: 'succeeded' }).where('id', '=', first).execute();
    await expect(gate(context(alice))).resolves.toBeUndefined();
  });

  it('reports the hourly limit when both limits bind', async () => {
    const gate = check({ perHour: 2 });
    await submit(gate, alice, 2, 'queued');
    expect((await refusal(gate, alice)).details).toMatchObject({ window: 'hour', retryAfterSeconds: 3480 });
  });

  it('applies per-user overrides by name or id, keeping the defaults for unset fields', async () => {
    const gate = check({ perUser: { alice: { perHour: 3 }, [bob.id]: { concurrent: 3 } } });
    await submit(gate, alice, 3);
    expect((await refusal(gate, alice)).details).toMatchObject({ limit: 3, window: 'hour' });

    for (let i = 0; i < 3; i++) await insertJob(bob, now, 'queued');
    expect((await refusal(gate, bob)).details).toMatchObject({ limit: 3, window: 'concurrent' });
    await database.db.updateTable('jobs').set({ status: 'succeeded' }).where('user_id', '=', bob.id).execute();
    await submit(gate, bob, 47);
    expect((await refusal(gate, bob)).details).toMatchObject({ limit: 50, window: 'hour' });
  });

  it('exempts admins when configured, and limits them when not or when named', async () => {
    await submit(check({ perHour: 2, exemptAdmins: false }), admin, 2);
    await expect(check({ perHour: 2, exemptAdmins: true })(context(admin))).resolves.toBeUndefined();
    expect((await refusal(check({ perHour: 2, exemptAdmins: false }), admin)).details).toMatchObject({ limit: 2 });
    expect((await refusal(check({ perHour: 2, exemptAdmins: true, perUser: { root: { perHour: 1 } } }), admin)).details).toMatchObject({ limit: 1 });
  });

  it('treats 0 as no limit', async () => {
    const gate = check({ perHour: 0, concurrent: 0 });
    await submit(gate, alice, 60, 'queued');
  });

  it('still refuses after a restart: a new check over the same database file', async () => {
    await submit(check({ perHour: 5 }), alice, 5);
    await database.close();
    database = await createDatabase(`sqlite:${file}`);
    const error = await refusal(check({ perHour: 5 }, database), alice);
    expect(error.details).toEqual({ retryAfterSeconds: 3300, limit: 5, window: 'hour' });
  });

  it('refuses invalid limits at creation, naming the key', () => {
    expect(() => check({ perHour: -1 })).toThrow('Expected integer ≥ 0 for rateLimits.perHour but received -1');
    expect(() => check({ perUser: { alice: { concurrent: 1.5 } } })).toThrow('Expected integer ≥ 0 for rateLimits.perUser.alice.concurrent but received 1.5');
  });
});

describe('createJobCountsRepo', () => {
  it('counts jobs created after the cutoff and reports the oldest of them', async () => {
    const counts = createJobCountsRepo(database.db);
    expect(await counts.countRecent(alice.id, T0 - HOUR)).toEqual({ count: 0, oldestCreatedAt: undefined });
    await insertJob(alice, T0 - HOUR); // exactly at the cutoff: outside the window
    await insertJob(alice, T0 - HOUR + 1, 'canceled');
    await insertJob(alice, T0, 'running');
    await insertJob(bob, T0, 'queued');
    expect(await counts.countRecent(alice.id, T0 - HOUR)).toEqual({ count: 2, oldestCreatedAt: T0 - HOUR + 1 });
    expect(await counts.countRunning(alice.id)).toBe(1);
    expect(await counts.countRunning(bob.id)).toBe(1);
  });
});
