import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testSchema, type TestSchema } from '../helpers/postgres.js';
import { killAllSpawned, spawnServer, type SpawnedServer } from '../helpers/spawn-server.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startWebhookReceiver, verifyStandardWebhook, type WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * Webhook deliveries survive kill -9: the delivery is written with the run's status change,
 * so a node killed before it could send it — or while sending it — sends it when it comes
 * back, with the same webhook-id. The restarted node takes back its own in-flight claim at
 * once (the claim would otherwise hold the delivery for 70 s: the 10 s attempt limit + 60 s).
 *
 * Retries are due 1 s after a failed attempt here (WEBHOOK_RETRY_DELAY_SECONDS; 5 s by
 * default) and a node looks for deliveries it did not schedule every second
 * (WEBHOOK_POLL_SECONDS; 15 s by default): a retry scheduled before the kill is the restarted
 * node's at once, not at its first poll 15 s later.
 */

const SMALL = { prompt: 'a lighthouse at dusk', width: 64, height: 64, steps: 2, seed: 11 };

async function api(server: SpawnedServer, token: string, method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${JSON.stringify(json)}`);
  return json;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; ; ) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const modes: { name: string; env: () => Promise<{ env: Record<string, string>; cleanUp: () => Promise<void> }> }[] = [
  { name: 'SQLite', env: async () => ({ env: {}, cleanUp: async () => {} }) },
  {
    name: 'PostgreSQL',
    env: async () => {
      const schema: TestSchema = testSchema();
      return { env: { DATABASE_URL: schema.url }, cleanUp: () => schema.drop() };
    },
  },
];

describe.each(modes)('webhook delivery across kill -9: $name', ({ env: makeEnv }) => {
  let tmp: { dir: string; remove: () => Promise<void> };
  let receiver: WebhookReceiver | undefined;
  const cleanUps: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    tmp = await makeTempDir('atelier-webhook-crash-');
  });
  afterEach(async () => {
    await killAllSpawned();
    await receiver?.close();
    receiver = undefined;
    for (const cleanUp of cleanUps.splice(0)) await cleanUp();
  });
  afterAll(async () => {
    await tmp?.remove();
  });

  async function node(name: string) {
    const mode = await makeEnv();
    cleanUps.push(mode.cleanUp);
    const dataDir = join(tmp.dir, name);
    await mkdir(dataDir);
    return {
      ...mode.env,
      DATA_DIR: dataDir,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_RETRY_DELAY_SECONDS: '1',
      WEBHOOK_POLL_SECONDS: '1',
      RATE_LIMIT_PER_HOUR: '0',
      RATE_LIMIT_CONCURRENT: '0',
      LOG_LEVEL: 'warn',
    };
  }

  it('an attempt in flight when the node is killed is made again as soon as it restarts, with the same webhook-id', { timeout: 120_000 }, async () => {
    receiver = await startWebhookReceiver({ replies: ['hang'] });
    const env = await node('in-flight');
    const first = await spawnServer({ env, timeoutMs: 30_000 });
    const token = first.token!;
    const run = await api(first, token, 'POST', '/api/generate/text-to-image', { ...SMALL, webhook: receiver.url });
    // The run succeeded and its delivery is on the wire, held open by the receiver.
    const [hung] = await receiver.waitFor(1, 30_000);
    await first.kill('SIGKILL');

    const second = await spawnServer({ env, timeoutMs: 30_000 });
    const restartedAt = Date.now();
    const [, sent] = await receiver.waitFor(2, 30_000);
    expect(sent!.at - restartedAt).toBeLessThan(15_000);
    expect(sent!.headers['webhook-id']).toBe(hung!.headers['webhook-id']);
    const secret = (await api(second, token, 'GET', '/api/webhooks/secret')).secret as string;
    expect(verifyStandardWebhook(secret, sent!)).toBe(true);
    expect(JSON.parse(sent!.body)).toMatchObject({ runId: run.runId, status: 'succeeded' });
    const listing = await until('the delivery to be recorded', async () => {
      const body = await api(second, token, 'GET', `/api/runs/${run.runId}/webhooks`);
      return body.deliveries[0]?.state === 'delivered' ? body : undefined;
    });
    expect(listing.deliveries).toHaveLength(1);
    expect(listing.deliveries[0]).toMatchObject({ event: 'succeeded', attempts: 2, lastStatus: 200, webhookId: hung!.headers['webhook-id'] });
    expect(receiver.received).toHaveLength(2);
  });

  it('a delivery whose receiver was down is retried by the restarted node, with the same webhook-id', { timeout: 120_000 }, async () => {
    receiver = await startWebhookReceiver();
    await receiver.down();
    const env = await node('receiver-down');
    const first = await spawnServer({ env, timeoutMs: 30_000 });
    const token = first.token!;
    const run = await api(first, token, 'POST', '/api/generate/text-to-image', { ...SMALL, webhook: receiver.url, webhook_events: ['failed', 'succeeded'] });
    const failed = await until('a failed first attempt', async () => {
      const body = await api(first, token, 'GET', `/api/runs/${run.runId}/webhooks`);
      const delivery = body.deliveries[0];
      // Recorded and not claimed again yet (a claimed delivery shows no nextAttemptAt).
      return delivery?.history.length >= 1 && delivery.nextAttemptAt !== null ? delivery : undefined;
    });
    expect(failed).toMatchObject({ state: 'pending', lastStatus: null });
    expect(failed.lastError).toMatch(/ECONNREFUSED|could not be fetched/);
    // The retry is due WEBHOOK_RETRY_DELAY_SECONDS (±20 %) after the failed attempt ended,
    // doubled per earlier failed attempt (this node may have retried once before the probe saw it).
    const last = failed.history[failed.history.length - 1];
    const delay = Date.parse(failed.nextAttemptAt) - (Date.parse(last.at) + last.durationMs);
    const base = 1000 * 2 ** (failed.history.length - 1);
    expect(delay).toBeGreaterThanOrEqual(0.8 * base);
    expect(delay).toBeLessThanOrEqual(1.2 * base);
    await first.kill('SIGKILL');

    await receiver.up();
    const second = await spawnServer({ env, timeoutMs: 30_000 });
    // The retry is due ~1 s after the failed attempt (0.8–1.2 s with jitter), whoever is up then:
    // the restarted node's start-up claims it if it is due by then, its next poll otherwise.
    const [sent] = await receiver.waitFor(1, 30_000);
    expect(sent!.headers['webhook-id']).toBe(failed.webhookId);
    expect(verifyStandardWebhook((await api(second, token, 'GET', '/api/webhooks/secret')).secret, sent!)).toBe(true);
    expect(JSON.parse(sent!.body)).toMatchObject({ runId: run.runId, status: 'succeeded' });
  });
});
