import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/db/create-db.js';
import { createJobsRepo, type JobsRepo } from '../../src/db/repos/jobs-repo.js';
import { createWebhookDeliveriesRepo, type WebhookDeliveriesRepo } from '../../src/db/repos/webhook-deliveries-repo.js';
import { createWebhookSecretsRepo } from '../../src/db/repos/webhook-secrets-repo.js';
import type { JobRow } from '../../src/db/schema.js';
import { postWebhook } from '../../src/webhooks/post-webhook.js';
import { createWebhookDispatcher, type WebhookDispatcher } from '../../src/webhooks/webhook-dispatcher.js';
import { createWebhookMetrics } from '../../src/webhooks/webhook-metrics.js';
import { createWebhookService } from '../../src/webhooks/webhook-service.js';
import { insertUser, jobRow } from '../db/rows.js';
import { testSchema } from '../helpers/postgres.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startWebhookReceiver, verifyStandardWebhook, type WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * The dispatcher through its module API, on a real database and a real local receiver, with
 * a clock the test moves: nothing here sleeps to let a backoff pass.
 */

const T0 = 1_767_225_600_000;
const HOUR = 3_600_000;
const silent = { info() {}, warn() {}, error() {}, debug() {} };

const dialects = [
  {
    name: 'SQLite',
    open: async () => {
      const tmp = await makeTempDir('atelier-dispatch-');
      const handle = await createDatabase(`sqlite:${join(tmp.dir, 'atelier.db')}`);
      return { handle, close: async () => (await handle.close(), await tmp.remove()) };
    },
  },
  {
    name: 'PostgreSQL',
    open: async () => {
      const schema = testSchema();
      const handle = await createDatabase(schema.url);
      return { handle, close: async () => (await handle.close(), await schema.drop()) };
    },
  },
];

describe.each(dialects)('the webhook dispatcher on $name', ({ open }) => {
  let database: { handle: DatabaseHandle; close(): Promise<void> };
  let jobs: JobsRepo;
  let deliveries: WebhookDeliveriesRepo;
  let receiver: WebhookReceiver;
  let now: number;
  let registry: Registry;
  let metrics: ReturnType<typeof createWebhookMetrics>;
  let service: ReturnType<typeof createWebhookService>;
  const closers: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    database = await open();
    jobs = createJobsRepo(database.handle.db);
    deliveries = createWebhookDeliveriesRepo(database.handle.db);
    service = createWebhookService({ secrets: createWebhookSecretsRepo(database.handle.db), deliveries, clock: () => now });
    receiver = await startWebhookReceiver();
    registry = new Registry();
    metrics = createWebhookMetrics(registry);
    now = T0;
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await receiver.close();
    await database.close();
  });

  function dispatcher(options: { timeoutMs?: number; allowPrivate?: boolean; nodeId?: string } = {}): WebhookDispatcher {
    const d = createWebhookDispatcher(
      {
        deliveries,
        renderRun: async (jobId) => {
          const job = await jobs.findById(jobId);
          return job && { runId: job.id, status: job.status };
        },
        secretFor: service.secretFor,
        post: (post) => postWebhook(post, { timeoutMs: options.timeoutMs ?? 5_000, allowPrivate: options.allowPrivate ?? true }),
        metrics,
        logger: silent,
        clock: () => now,
        random: () => 0.5, // no jitter: the schedule's exact delays
      },
      { nodeId: options.nodeId ?? 'node-a', attemptTimeoutMs: options.timeoutMs ?? 5_000, pollMs: 60_000, autoRun: false },
    );
    closers.push(() => d.stop());
    return d;
  }

  /** A canceled run of a new user, reporting `canceled` to `url`: one delivery, due at T0. */
  async function canceledRun(url = receiver.url): Promise<JobRow> {
    const user = await insertUser(database.handle.db);
    const row = jobRow(user.id, { webhook_url: url, webhook_events: 'canceled' });
    await jobs.insert(row);
    await jobs.cancel(row.id, T0);
    return row;
  }

  const listed = async (jobId: string) => (await service.deliveriesOf(jobId))[0]!;
  const counted = async (outcome: string) => (await registry.getSingleMetric('atelier_webhook_deliveries_total')!.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;

  it('retries a receiver that fails first: the same webhook-id each time, after the backoff and not before', async () => {
    const run = await canceledRun();
    receiver.reply(500);
    const d = dispatcher();

    expect(await d.tick()).toBe(1);
    expect(receiver.received).toHaveLength(1);
    const first = await listed(run.id);
    expect(first).toMatchObject({ state: 'pending', attempts: 1, lastStatus: 500, lastError: 'The receiver answered HTTP 500', nextAttemptAt: new Date(T0 + 5_000).toISOString() });

    now = T0 + 4_999;
    expect(await d.tick()).toBe(0);
    expect(receiver.received).toHaveLength(1);

    now = T0 + 5_000;
    expect(await d.tick()).toBe(1);
    const [a, b] = await receiver.waitFor(2);
    expect(b!.headers['webhook-id']).toBe(a!.headers['webhook-id']);
    expect(b!.body).toBe(a!.body);
    // Each attempt carries its own timestamp, and its own valid signature.
    expect([a!.headers['webhook-timestamp'], b!.headers['webhook-timestamp']]).toEqual([String(T0 / 1000), String((T0 + 5_000) / 1000)]);
    const secret = await service.secretFor(run.user_id);
    expect(verifyStandardWebhook(secret, a!)).toBe(true);
    expect(verifyStandardWebhook(secret, b!)).toBe(true);
    expect(JSON.parse(b!.body)).toEqual({ runId: run.id, status: 'canceled' });

    const done = await listed(run.id);
    expect(done).toMatchObject({ webhookId: a!.headers['webhook-id'], state: 'delivered', attempts: 2, lastStatus: 200, lastError: null, nextAttemptAt: null, deliveredAt: new Date(T0 + 5_000).toISOString() });
    expect(done.history.map((h) => [h.attempt, h.at, h.status, h.error])).toEqual([
      [1, new Date(T0).toISOString(), 500, 'The receiver answered HTTP 500'],
      [2, new Date(T0 + 5_000).toISOString(), 200, null],
    ]);
    expect(await counted('retrying')).toBe(1);
    expect(await counted('delivered')).toBe(1);
    now = T0 + 48 * HOUR;
    expect(await d.tick()).toBe(0); // delivered: never again
  });

  it('backs off from 5 s, doubling to an hour, keeps trying for 24 h, then gives up and records it', async () => {
    const run = await canceledRun();
    receiver.setDefault(503);
    const d = dispatcher();
    const attemptsAt: number[] = [];
    for (let round = 0; round < 100; round++) {
      expect(await d.tick()).toBe(1);
      attemptsAt.push(now);
      const delivery = await listed(run.id);
      if (delivery.state === 'failed') break;
      // Due exactly then, not a millisecond earlier.
      const due = Date.parse(delivery.nextAttemptAt!);
      now = due - 1;
      expect(await d.tick()).toBe(0);
      now = due;
    }
    const delays = attemptsAt.slice(1).map((at, i) => at - attemptsAt[i]!);
    expect(delays.slice(0, 11)).toEqual([5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600].map((s) => s * 1000));
    expect(new Set(delays.slice(10))).toEqual(new Set([HOUR]));
    // Tried for at least 24 h: the last attempt is the first one made after 24 h.
    expect(attemptsAt.at(-1)! - T0).toBeGreaterThanOrEqual(24 * HOUR);
    expect(attemptsAt.at(-2)! - T0).toBeLessThan(24 * HOUR);
    const gaveUp = await listed(run.id);
    expect(gaveUp).toMatchObject({ state: 'failed', attempts: attemptsAt.length, nextAttemptAt: null, lastStatus: 503 });
    expect(gaveUp.history).toHaveLength(attemptsAt.length);
    expect(receiver.received).toHaveLength(attemptsAt.length);
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(await counted('gave_up')).toBe(1);
    expect(await counted('retrying')).toBe(attemptsAt.length - 1);
    now += 10 * HOUR;
    expect(await d.tick()).toBe(0);
  });

  it('a receiver that does not answer in time fails the attempt; the next one is made as scheduled', async () => {
    const run = await canceledRun();
    receiver.reply('hang');
    const d = dispatcher({ timeoutMs: 1_000 });
    expect(await d.tick()).toBe(1);
    expect(await listed(run.id)).toMatchObject({ state: 'pending', attempts: 1, lastStatus: null, lastError: 'The webhook did not answer within 1 s' });
    now = T0 + 5_000;
    expect(await d.tick()).toBe(1);
    expect(await listed(run.id)).toMatchObject({ state: 'delivered', attempts: 2 });
  });

  it('does not follow a redirect: a 3xx is a failed attempt and the other address gets nothing', async () => {
    const elsewhere = await startWebhookReceiver();
    closers.push(() => elsewhere.close());
    const run = await canceledRun();
    receiver.reply({ redirect: elsewhere.url });
    expect(await dispatcher().tick()).toBe(1);
    expect(await listed(run.id)).toMatchObject({ state: 'pending', lastStatus: 302, lastError: 'The receiver answered HTTP 302' });
    expect(elsewhere.received).toEqual([]);
  });

  it('refuses a private target at delivery time when private targets are not allowed', async () => {
    // Recorded directly (submission would have refused them): the guard still holds when sending.
    const loopback = await canceledRun(`https://127.0.0.1:${receiver.port}/hook`);
    const plainHttp = await canceledRun(receiver.url);
    expect(await dispatcher({ allowPrivate: false }).tick()).toBe(2);
    expect(await listed(loopback.id)).toMatchObject({ state: 'pending', lastStatus: null, lastError: 'The host 127.0.0.1 resolves to 127.0.0.1, which is not a public address' });
    expect(await listed(plainHttp.id)).toMatchObject({ state: 'pending', lastStatus: null, lastError: "Expected an https: URL but received 'http:'" });
    expect(receiver.received).toEqual([]);
  });

  it('an attempt cut short by a stop is made again by the next start, with the same webhook-id', async () => {
    const run = await canceledRun();
    receiver.reply('hang');
    const before = dispatcher({ nodeId: 'node-a' });
    const ticking = before.tick();
    await receiver.waitFor(1);
    await before.stop();
    await ticking;
    // The attempt was not recorded: the claim holds the delivery (due only when it expires).
    expect(await listed(run.id)).toMatchObject({ state: 'pending', attempts: 1, history: [], nextAttemptAt: null });
    expect(await dispatcher({ nodeId: 'node-b' }).tick()).toBe(0);

    // The same node, restarted: its claim is taken back at once.
    const after = dispatcher({ nodeId: 'node-a' });
    await after.start();
    expect(await after.tick()).toBe(1);
    const [hung, sent] = await receiver.waitFor(2);
    expect(sent!.headers['webhook-id']).toBe(hung!.headers['webhook-id']);
    expect(await listed(run.id)).toMatchObject({ state: 'delivered', attempts: 2, history: [{ attempt: 2, status: 200 }] });
  });

  it('signs with the secret the user has when the attempt is made: a rotation applies to retries', async () => {
    const run = await canceledRun();
    receiver.reply(500);
    const d = dispatcher();
    await d.tick();
    const old = await service.secretFor(run.user_id);
    const fresh = await service.rotateSecret(run.user_id);
    now = T0 + 5_000;
    await d.tick();
    const [first, retry] = await receiver.waitFor(2);
    expect(verifyStandardWebhook(old, first!)).toBe(true);
    expect(verifyStandardWebhook(fresh, retry!)).toBe(true);
    expect(verifyStandardWebhook(old, retry!)).toBe(false);
  });
});
