import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/db/create-db.js';
import { createJobsRepo } from '../../src/db/repos/jobs-repo.js';
import { createWebhookDeliveriesRepo } from '../../src/db/repos/webhook-deliveries-repo.js';
import { createWebhookSecretsRepo } from '../../src/db/repos/webhook-secrets-repo.js';
import { testSchema } from '../helpers/postgres.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { assetRow, insertUser, jobRow } from './rows.js';

/**
 * The webhook tables of migration 0009 on both databases: deliveries are enqueued by the
 * status change itself (a trigger), claimed once however many nodes claim, settled only by
 * their claimant, and taken back by a restarted node.
 */

const T0 = 1_767_225_600_000;

interface Fixture {
  readonly handle: DatabaseHandle;
  /** A second node on the same database (PostgreSQL: its own pool; SQLite: the same handle). */
  peer(): Promise<DatabaseHandle>;
  cleanup(): Promise<void>;
}

const dialects: { name: string; make: () => Promise<Fixture> }[] = [
  {
    name: 'SQLite',
    make: async () => {
      const tmp = await makeTempDir('atelier-webhooks-db-');
      const handle = await createDatabase(`sqlite:${join(tmp.dir, 'atelier.db')}`);
      return { handle, peer: async () => handle, cleanup: async () => (await handle.close(), await tmp.remove()) };
    },
  },
  {
    name: 'PostgreSQL',
    make: async () => {
      const schema = testSchema();
      const handle = await createDatabase(schema.url);
      const peers: DatabaseHandle[] = [];
      return {
        handle,
        peer: async () => {
          const peer = await createDatabase(schema.url);
          peers.push(peer);
          return peer;
        },
        cleanup: async () => {
          for (const peer of peers) await peer.close();
          await handle.close();
          await schema.drop();
        },
      };
    },
  },
];

describe.each(dialects)('webhook deliveries on $name', ({ make }) => {
  let f: Fixture;
  beforeEach(async () => {
    f = await make();
  });
  afterEach(async () => {
    await f.cleanup();
  });

  async function jobWithWebhook(events = 'running,succeeded,failed,canceled', overrides: Parameters<typeof jobRow>[1] = {}) {
    const user = await insertUser(f.handle.db);
    const jobs = createJobsRepo(f.handle.db);
    const row = jobRow(user.id, { webhook_url: 'https://example.com/hook', webhook_events: events, ...overrides });
    await jobs.insert(row);
    return { user, jobs, row, deliveries: createWebhookDeliveriesRepo(f.handle.db) };
  }

  it('a status change enqueues its delivery in the same write, only for the events the run subscribed to', async () => {
    const { jobs, row, deliveries } = await jobWithWebhook('succeeded,failed');
    expect(await deliveries.listForJob(row.id)).toEqual([]); // queued is never delivered
    await jobs.markRunning(row.id, 1, 'node-a', T0 + 30_000, T0 + 10);
    expect(await deliveries.listForJob(row.id)).toEqual([]); // not subscribed to running
    await jobs.succeed(row.id, 1, [assetRow(row, 0)], T0 + 20);
    const [delivery, ...others] = await deliveries.listForJob(row.id);
    expect(others).toEqual([]);
    expect(delivery).toMatchObject({ job_id: row.id, user_id: row.user_id, event: 'succeeded', url: 'https://example.com/hook', state: 'pending', attempts: 0, next_attempt_at: T0 + 20, created_at: T0 + 20, history: [] });
    expect(delivery!.id).toMatch(/^msg_[0-9a-f]{32}$/);
  });

  it('enqueues failed and canceled too, and running once however often the run starts again', async () => {
    const a = await jobWithWebhook();
    await a.jobs.markRunning(a.row.id, 1, 'node-a', T0 + 30_000, T0 + 10);
    await a.jobs.requeue(a.row.id, 'backend_failed', 'boom', T0 + 20);
    await a.jobs.markRunning(a.row.id, 2, 'node-a', T0 + 60_000, T0 + 30);
    await a.jobs.fail(a.row.id, 'backend_failed', 'boom again', T0 + 40);
    expect((await a.deliveries.listForJob(a.row.id)).map((d) => [d.event, d.created_at])).toEqual([
      ['running', T0 + 10],
      ['failed', T0 + 40],
    ]);

    const b = await jobWithWebhook();
    await b.jobs.cancel(b.row.id, T0 + 50);
    expect((await b.deliveries.listForJob(b.row.id)).map((d) => d.event)).toEqual(['canceled']);
  });

  it('a run without a webhook, or finished on arrival from the cache, is handled by the same trigger', async () => {
    const user = await insertUser(f.handle.db);
    const jobs = createJobsRepo(f.handle.db);
    const deliveries = createWebhookDeliveriesRepo(f.handle.db);
    const plain = jobRow(user.id);
    await jobs.insert(plain);
    await jobs.markRunning(plain.id, 1, 'node-a', T0 + 30_000, T0 + 10);
    await jobs.succeed(plain.id, 1, [], T0 + 20);
    expect(await deliveries.listForJob(plain.id)).toEqual([]);
    const cached = jobRow(user.id, { status: 'succeeded', webhook_url: 'https://example.com/hook', webhook_events: 'succeeded,failed,canceled' });
    await jobs.insertWithAssets(cached, [assetRow(cached, 0)]);
    expect((await deliveries.listForJob(cached.id)).map((d) => d.event)).toEqual(['succeeded']);
  });

  it('claims a due delivery once, counts the attempt, and records its outcome only for the claimant', async () => {
    const { jobs, row, deliveries } = await jobWithWebhook('canceled');
    await jobs.cancel(row.id, T0 + 100);
    expect(await deliveries.claimDue('node-a', T0 + 99, T0 + 60_000, 10)).toEqual([]); // not due yet
    const [claim, ...more] = await deliveries.claimDue('node-a', T0 + 100, T0 + 70_000, 10);
    expect(more).toEqual([]);
    expect(claim).toMatchObject({ attempts: 1, claimed_by: 'node-a', next_attempt_at: T0 + 70_000, last_attempt_at: T0 + 100 });
    // Claimed: not due again until the claim expires.
    expect(await deliveries.claimDue('node-b', T0 + 200, T0 + 70_000, 10)).toEqual([]);
    expect(await deliveries.settle(claim!, 'node-b', { state: 'delivered' }, { startedAt: T0 + 100, durationMs: 5, statusCode: 200, error: null }, T0 + 105)).toBe(false);

    const failed = { startedAt: T0 + 100, durationMs: 12, statusCode: 500, error: 'The receiver answered HTTP 500' };
    expect(await deliveries.settle(claim!, 'node-a', { state: 'pending', nextAttemptAt: T0 + 5_000 }, failed, T0 + 112)).toBe(true);
    // A late second settlement of the same claim is refused.
    expect(await deliveries.settle(claim!, 'node-a', { state: 'delivered' }, failed, T0 + 113)).toBe(false);
    const [second] = await deliveries.claimDue('node-b', T0 + 5_000, T0 + 75_000, 10);
    expect(second).toMatchObject({ id: claim!.id, attempts: 2, claimed_by: 'node-b' });
    expect(await deliveries.settle(second!, 'node-b', { state: 'delivered' }, { startedAt: T0 + 5_000, durationMs: 7, statusCode: 204, error: null }, T0 + 5_007)).toBe(true);

    const [listed] = await deliveries.listForJob(row.id);
    expect(listed).toMatchObject({ state: 'delivered', attempts: 2, next_attempt_at: null, claimed_by: null, last_status: 204, last_error: null, delivered_at: T0 + 5_007 });
    expect(listed!.history).toEqual([
      { delivery_id: claim!.id, attempt: 1, started_at: T0 + 100, duration_ms: 12, status_code: 500, error: 'The receiver answered HTTP 500' },
      { delivery_id: claim!.id, attempt: 2, started_at: T0 + 5_000, duration_ms: 7, status_code: 204, error: null },
    ]);
    expect(await deliveries.claimDue('node-a', T0 + 10_000_000, T0 + 10_070_000, 10)).toEqual([]);
  });

  it('a claim that expired goes to another node; a restarted node takes its own claims back at once', async () => {
    const { jobs, row, deliveries } = await jobWithWebhook('canceled');
    await jobs.cancel(row.id, T0);
    const [first] = await deliveries.claimDue('node-a', T0, T0 + 70_000, 10);
    // node-a dies; at expiry node-b takes it, and node-a's late answer is not recorded.
    const [taken] = await deliveries.claimDue('node-b', T0 + 70_000, T0 + 140_000, 10);
    expect(taken).toMatchObject({ id: first!.id, attempts: 2, claimed_by: 'node-b' });
    expect(await deliveries.settle(first!, 'node-a', { state: 'delivered' }, { startedAt: T0, durationMs: 1, statusCode: 200, error: null }, T0 + 70_001)).toBe(false);

    // node-b is killed and comes back: its claim is due at once, not at T0 + 140 000.
    expect(await deliveries.reclaim('node-a', T0 + 80_000)).toBe(0);
    expect(await deliveries.reclaim('node-b', T0 + 80_000)).toBe(1);
    const [again] = await deliveries.claimDue('node-b', T0 + 80_000, T0 + 150_000, 10);
    expect(again).toMatchObject({ id: first!.id, attempts: 3 });
    await deliveries.settle(again!, 'node-b', { state: 'failed' }, { startedAt: T0 + 80_000, durationMs: 1, statusCode: null, error: 'refused' }, T0 + 80_001);
    expect(await deliveries.reclaim('node-b', T0 + 90_000)).toBe(0); // given up: nothing to take back
    expect((await deliveries.listForJob(row.id))[0]).toMatchObject({ state: 'failed', next_attempt_at: null, last_error: 'refused' });
  });

  it('two nodes claiming at once take each delivery exactly once', async () => {
    const user = await insertUser(f.handle.db);
    const jobs = createJobsRepo(f.handle.db);
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const row = jobRow(user.id, { webhook_url: 'https://example.com/hook', webhook_events: 'canceled' });
      await jobs.insert(row);
      await jobs.cancel(row.id, T0 + i);
      ids.push(row.id);
    }
    const nodes = [createWebhookDeliveriesRepo(f.handle.db), createWebhookDeliveriesRepo((await f.peer()).db)];
    const claimed: string[] = [];
    await Promise.all(
      nodes.map(async (repo, n) => {
        for (;;) {
          const batch = await repo.claimDue(`node-${n}`, T0 + 1_000, T0 + 60_000, 3);
          if (batch.length === 0) return;
          claimed.push(...batch.map((c) => c.job_id));
        }
      }),
    );
    expect(claimed.sort()).toEqual([...ids].sort());
  });

  it('a user has one signing secret, created once even when asked at the same moment, replaced on rotation', async () => {
    const user = await insertUser(f.handle.db);
    const secrets = [createWebhookSecretsRepo(f.handle.db), createWebhookSecretsRepo((await f.peer()).db)];
    let made = 0;
    const fresh = () => `whsec_${++made}`;
    const got = await Promise.all([secrets[0]!.getOrCreate(user.id, fresh, T0), secrets[1]!.getOrCreate(user.id, fresh, T0)]);
    expect(got[0]).toBe(got[1]);
    expect(await secrets[1]!.getOrCreate(user.id, fresh, T0 + 1)).toBe(got[0]);
    await secrets[0]!.replace(user.id, 'whsec_rotated', T0 + 2);
    expect(await secrets[1]!.getOrCreate(user.id, fresh, T0 + 3)).toBe('whsec_rotated');
  });
});
